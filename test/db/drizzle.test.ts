// drizzle-orm must load from its CommonJS build (see src/db/drizzle.ts): one value imported from its ESM
// build anywhere on the run path costs ~150 MB of RSS at start-up. Checked in a fresh process, which records
// every module that import or require resolves.
import { describe, expect, it } from 'vitest';
import { loadedPackageFiles } from '../helpers/loaded-modules.ts';

describe('drizzle-orm loading', () => {
  it('loads only the CommonJS build on the run and migrate paths, for either driver', async () => {
    const files = await loadedPackageFiles(
      ['src/cli/run-command.ts', 'src/cli/migrate-command.ts', 'src/db/postgres.ts', 'src/db/pglite.ts'],
      'drizzle-orm',
    );
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((url) => !url.endsWith('.cjs'))).toEqual([]);
  });
});
