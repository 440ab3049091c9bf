// The embedded database's directory: one process at a time, and a lock left by a dead process is taken over.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseInUseError, lockDirectory } from '../../src/db/pglite-dir.ts';

describe('lockDirectory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wcs-pglite-lock-'));
  const file = join(dir, 'wecom-chain-sync.pid');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a directory a live process holds, and takes over one whose process is gone', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(file, String(other.pid));
      expect(() => lockDirectory(dir)).toThrow(DatabaseInUseError);
      expect(() => lockDirectory(dir)).toThrow(`in use by process ${other.pid}`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    const release = lockDirectory(dir);
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(file)).toBe(false);
  });
});
