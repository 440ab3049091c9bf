import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  schemaFilter: ['wecom'],
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://localhost/wecom' },
});
