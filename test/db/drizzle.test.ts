// drizzle-orm must load from its CommonJS build (see src/db/drizzle.ts): one value imported from its ESM
// build anywhere on the run path costs ~150 MB of RSS at start-up. Checked in a fresh process, which records
// every module that import or require resolves.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const RECORD_AND_LOAD = `
import { registerHooks } from 'node:module';
const resolved = [];
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); resolved.push(r.url); return r; } });
for (const m of JSON.parse(process.argv[1])) await import(new URL(m, process.argv[2]));
console.log(JSON.stringify(resolved.filter((url) => url.includes('/node_modules/drizzle-orm/'))));
`;

const loadedDrizzleFiles = async (modules: string[]): Promise<string[]> => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    RECORD_AND_LOAD,
    JSON.stringify(modules),
    new URL('../../', import.meta.url).href,
  ]);
  return JSON.parse(stdout);
};

describe('drizzle-orm loading', () => {
  it('loads only the CommonJS build on the run and migrate paths, for either driver', async () => {
    const files = await loadedDrizzleFiles([
      'src/cli/run-command.ts',
      'src/cli/migrate-command.ts',
      'src/db/postgres.ts',
      'src/db/pglite.ts',
    ]);
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((url) => !url.endsWith('.cjs'))).toEqual([]);
  });
});
