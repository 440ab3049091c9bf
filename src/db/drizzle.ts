// drizzle-orm's runtime values, loaded from its CommonJS build. Import them from here, never from 'drizzle-orm'
// (biome's noRestrictedImports enforces it; type imports may come from drizzle-orm directly).
//
// Why: the ESM build is 448 `.js` files under one 179 KB package.json, and Node's ESM loader deserializes that
// package.json afresh for every `.js` file it loads, to read its "type": ~150 MB of garbage at start-up, and V8
// keeps the heap it grew for it. Importing the run path peaked at 264 MB of RSS that way, 119 MB with the
// `.cjs` files of the CommonJS build, which need no package lookup. See docs/benchmarks.md, "Fixed".
import { createRequire } from 'node:module';

interface Modules {
  'drizzle-orm': typeof import('drizzle-orm');
  'drizzle-orm/pg-core': typeof import('drizzle-orm/pg-core');
  'drizzle-orm/node-postgres': typeof import('drizzle-orm/node-postgres');
  'drizzle-orm/migrator': typeof import('drizzle-orm/migrator');
  'drizzle-orm/pglite': typeof import('drizzle-orm/pglite');
}

// drizzle-kit loads schema.ts as CommonJS, where import.meta is empty and __filename is defined.
const require = createRequire(import.meta.url ?? __filename);

/** The query builder over either driver. */
export type Orm = import('drizzle-orm/pg-core').PgDatabase<import('drizzle-orm/pg-core').PgQueryResultHKT>;

export const drizzleModule = <M extends keyof Modules>(name: M): Modules[M] => require(name);
