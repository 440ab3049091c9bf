// The directory an embedded database lives in: made safely, and held by one process at a time.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config.ts';

/** Another process has the embedded database open: two PostgreSQL instances on one directory corrupt it. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
  constructor(dir: string, pid: number) {
    super(`the embedded database in ${dir} is in use by process ${pid}; it is for one process at a time`);
  }
}

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir never returns when a parent exists but cannot
 * hold the child (a path under /proc, a dangling symlink, a stale mount): it spins at full CPU, and the job
 * with it (nodejs/node#27198 is one of its relatives). A level that cannot be made is a configuration error.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const kind = kindOf(at);
    if (kind === 'directory') break;
    if (kind === 'other') throw new ConfigError('PGLITE_DIR', `${at} exists and is not a directory`);
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing) {
    try {
      mkdirSync(at);
    } catch (err) {
      throw new ConfigError('PGLITE_DIR', `cannot create ${at}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    throw new ConfigError('PGLITE_DIR', `cannot use ${path}: ${code}`);
  }
}

const LOCK_FILE = 'wecom-chain-sync.pid';

/**
 * Claims `dir` for this process, as PostgreSQL's postmaster.pid does for a server's data directory, and
 * returns the release. A lock whose process is gone (killed with -9, say) is taken over.
 */
export function lockDirectory(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new ConfigError('PGLITE_DIR', `cannot write ${file}: ${code}`);
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))
      throw new DatabaseInUseError(resolve(dir), holder);
    rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
