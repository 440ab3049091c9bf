// One Postgres server for the whole test run: TEST_DATABASE_URL when set, else a testcontainers one.
// Never skips: without either, the run fails here with a message saying what to set.
import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.TEST_DATABASE_URL;
  if (fromEnv) {
    project.provide('adminDatabaseUrl', fromEnv);
    return async () => {};
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  let container: StartedPostgreSqlContainer;
  try {
    container = await new PostgreSqlContainer('postgres:17-alpine').start();
  } catch (err) {
    throw new Error(
      `No test database: TEST_DATABASE_URL is not set and testcontainers could not start Postgres (${(err as Error).message}). ` +
        'Set TEST_DATABASE_URL=postgres://user@host:5432/db or start a Docker engine.',
    );
  }
  project.provide('adminDatabaseUrl', container.getConnectionUri());
  return async () => {
    await container.stop();
  };
}
