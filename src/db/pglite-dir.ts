// The directory an embedded database lives in: made safely, and held by one process at a time.
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../config.ts';

/** Another process has the embedded database open: two PostgreSQL instances on one directory corrupt it. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
  constructor(dir: string, holder: string, hint?: string) {
    super(
      `the embedded database in ${dir} is in use by ${holder}; it is for one process at a time` +
        (hint === undefined ? '' : `; ${hint}`),
    );
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
// The holder touches its file this often. A file no process of this PID namespace holds cannot be checked by
// its pid: it is taken over once untouched for STALE_MS (a container restarted after a kill -9 gets a
// namespace of its own, and would otherwise wait for someone to delete the file).
const TOUCH_MS = 15_000;
const STALE_MS = 120_000;

/** Who holds the directory: a process, in the PID namespace its pid means something in. */
interface Holder {
  pid: number;
  /** /proc/self/ns/pid: a container has a namespace of its own, where the pid of its first process is 1. */
  namespace: string;
  /**
   * The kernel's boot id: the host's first namespace has the same name on every host and after a reboot,
   * where a pid names another process (or none). Absent from the files of earlier versions.
   */
  boot?: string;
  /** Tells this holder's file from a later one's, which may have the same pid and namespace. */
  nonce: string;
}

/**
 * Claims `dir` for this process, as PostgreSQL's postmaster.pid does for a server's data directory, and
 * returns the release. A lock whose process is gone (killed with -9, say) is taken over: at once when it was
 * a process of this PID namespace and this boot, else once its holder has stopped touching it (see STALE_MS).
 */
export function lockDirectory(dir: string, touchMs = TOUCH_MS): () => void {
  const file = join(dir, LOCK_FILE);
  const mine: Holder = { pid: process.pid, namespace: pidNamespace(), boot: bootId(), nonce: randomUUID() };
  const record = JSON.stringify(mine);
  for (;;) {
    if (create(file, record)) return hold(file, record, touchMs);
    const found = readIfThere(file);
    if (found === null) continue;
    const holder = parse(found.text, mine.namespace);
    if (holder?.namespace === mine.namespace && (holder.boot ?? mine.boot) === mine.boot) {
      // In this namespace a pid is this process's alone: a file with it is a dead process's.
      if (holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new DatabaseInUseError(resolve(dir), `process ${holder.pid}`);
      }
    } else if (Date.now() - found.touchedMs < STALE_MS) {
      // Another container's, or one being written where files cannot be linked: its holder may be alive.
      const who =
        holder === null ? 'a process' : `process ${holder.pid} of another PID namespace (another container?)`;
      throw new DatabaseInUseError(
        resolve(dir),
        who,
        `it is taken over once untouched for ${STALE_MS / 1000} s; if no process has it open, delete ${file}`,
      );
    }
    takeOver(file, found.text);
  }
}

// Filesystems without hard links (vfat, some SMB and FUSE mounts) refuse link(2) with one of these.
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Creates `file` holding `record`, or finds it there: linked from a draft, so never visible half written,
 * where the filesystem has hard links; else written in place (a holder found empty counts as alive, above).
 */
function create(file: string, record: string): boolean {
  const draft = `${file}.${randomUUID()}`;
  try {
    writeFileSync(draft, record, { flag: 'wx' });
    try {
      linkSync(draft, file);
    } catch (err) {
      if (!NO_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      writeFileSync(file, record, { flag: 'wx' });
    }
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new ConfigError('PGLITE_DIR', `cannot write ${file}: ${code}`);
  } finally {
    rmSync(draft, { force: true });
  }
}

// Touches the file while it is this process's. A worker thread: PGlite runs on the main one, and a statement
// of minutes there (an analyst's query, a large merge) would hold up a timer of its, and another container
// would take a live holder's file over.
const TOUCHER = `
const { workerData: { file, record, touchMs } } = require('node:worker_threads');
const { readFileSync, utimesSync } = require('node:fs');
setInterval(() => {
  try {
    if (readFileSync(file, 'utf8') === record) utimesSync(file, new Date(), new Date());
  } catch {} // tried again at the next touch
}, touchMs);`;

/** The release of a file this process created, which it touches while it holds it. */
function hold(file: string, record: string, touchMs: number): () => void {
  const toucher = new Worker(TOUCHER, { eval: true, workerData: { file, record, touchMs } });
  toucher.unref();
  let held = true;
  const letGo = () => {
    if (!held) return;
    held = false;
    void toucher.terminate();
    release(file, record);
  };
  // A command a signal stops exits there and then (process.exit): its lock goes with it, or the next
  // container would wait STALE_MS for it.
  process.once('exit', letGo);
  return () => {
    process.off('exit', letGo);
    letGo();
  };
}

/**
 * Moves the dead holder's file aside. Another process may have taken it over meanwhile and made its own: then
 * that one is what was moved, and it is put back, for the loop to find it held.
 */
function takeOver(file: string, dead: string): void {
  const aside = `${file}.${randomUUID()}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (readFileSync(aside, 'utf8') !== dead) putBack(aside, file);
  } finally {
    rmSync(aside, { force: true });
  }
}

function putBack(aside: string, file: string): void {
  try {
    linkSync(aside, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return;
    if (!NO_LINKS.has(code)) throw err;
    if (!existsSync(file)) renameSync(aside, file);
  }
}

/** Removes the file if it is still this process's. */
function release(file: string, record: string): void {
  if (readIfThere(file)?.text === record) rmSync(file, { force: true });
}

function readIfThere(file: string): { text: string; touchedMs: number } | null {
  try {
    const touchedMs = statSync(file).mtimeMs;
    return { text: readFileSync(file, 'utf8'), touchedMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The holder a file names; a bare pid, as versions before the namespace wrote, is one of `namespace`. */
function parse(text: string, namespace: string): Holder | null {
  if (/^[1-9][0-9]*$/.test(text.trim())) return { pid: Number(text.trim()), namespace, nonce: '' };
  try {
    const holder = JSON.parse(text) as Holder;
    return Number.isInteger(holder.pid) && typeof holder.namespace === 'string' ? holder : null;
  } catch {
    return null;
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
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
