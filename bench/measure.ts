// What the benchmark reads from outside the code under test: /proc for a process's CPU time and memory,
// the machine's CPU and TCP sockets, and PostgreSQL's WAL position and per-table write counters.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import pg from 'pg';

// Linux reports /proc/<pid>/stat times in clock ticks; USER_HZ is 100 on every mainstream build.
const CLOCK_TICKS_PER_S = 100;

export interface ProcSample {
  /** Resident set size now, and its high-water mark since the process started (VmHWM), in KiB. */
  rssKb: number;
  hwmKb: number;
  /** CPU time used so far, in ms. */
  userMs: number;
  sysMs: number;
}

/** One reading of /proc/<pid>; null once the process is gone. */
export function sampleProcess(pid: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: the fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (i: number) => (Number(fields[i]) * 1000) / CLOCK_TICKS_PER_S;
    return {
      rssKb: statusKb(status, 'VmRSS'),
      hwmKb: statusKb(status, 'VmHWM'),
      // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
      userMs: ticks(11),
      sysMs: ticks(12),
    };
  } catch {
    return null;
  }
}

function statusKb(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th values.
  return { busy: total - v[3]! - v[4]!, total };
}

/** Share of the machine's CPU capacity busy between two readings (1 = every core busy). */
export function busyShare(before: { busy: number; total: number }, after: { busy: number; total: number }) {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Client-side TCP sockets whose remote port is `port` (IPv4 and IPv6), by local port → state.
 * State '01' is ESTABLISHED, '06' TIME_WAIT. Asynchronous on purpose: the kernel takes ~10 ms to produce
 * /proc/net/tcp here, and a synchronous read would stall the simulator sharing this event loop.
 */
export async function socketsTo(port: number): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const [local, remote, state] = [cols[1]!, cols[2]!, cols[3]!];
      if (remote.endsWith(`:${hexPort}`)) found.set(Number.parseInt(local.split(':')[1]!, 16), state);
    }
  }
  return found;
}

// --- PostgreSQL -------------------------------------------------------------------------------------

export async function walLsn(client: pg.Pool | pg.ClientBase): Promise<string> {
  const { rows } = await client.query('select pg_current_wal_lsn()::text as lsn');
  return rows[0].lsn;
}

export async function walBytesSince(client: pg.Pool | pg.ClientBase, lsn: string): Promise<number> {
  const { rows } = await client.query(
    'select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 as b',
    [lsn],
  );
  return rows[0].b;
}

export interface WalPart {
  record: string;
  count: number;
  bytes: number;
  /** Of which full-page images. */
  fpiBytes: number;
}

export interface OwnWal {
  /** WAL records that touch this database's relations: other databases' writes left out. */
  bytes: number;
  /** Those records by kind, biggest first. */
  parts: WalPart[];
}

const OWN_RECORDS = `
select resource_manager || '/' || record_type as record, count(*)::float8 as count,
       sum(record_length)::float8 as bytes, sum(fpi_length)::float8 as fpi
from pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
where block_ref like '%/' || (select oid from pg_database where datname = current_database()) || '/%'
group by 1`;

let slots = 0;

/**
 * A temporary replication slot, which keeps the server from recycling the WAL not read back yet: on a shared
 * server other sessions' checkpoints (every DROP DATABASE forces one) recycled it within seconds. On a client
 * of its own, not the pool's (a pooled client checked out for a whole pass has no error listener, and its
 * connection dropping would crash the benchmark). Advanced as the WAL is read, so that a benchmark stopped
 * mid-pass (Ctrl-Z, a hung sync) holds back no more than 30 s of the cluster's WAL. Null without the privilege
 * (superuser or REPLICATION): the reading then may fail, as it did before.
 */
class WalSlot {
  readonly #client: pg.Client;
  readonly #name: string;

  private constructor(client: pg.Client, name: string) {
    this.#client = client;
    this.#name = name;
  }

  static async open(pool: pg.Pool): Promise<WalSlot | null> {
    const client = new pg.Client(pool.options);
    client.on('error', () => {});
    try {
      await client.connect();
      const name = `wcs_bench_wal_${process.pid}_${++slots}`;
      await client.query('select pg_create_physical_replication_slot($1, true, true)', [name]);
      return new WalSlot(client, name);
    } catch {
      await client.end().catch(() => {});
      return null;
    }
  }

  /** Lets the server recycle the WAL before `lsn`, read back already. */
  async advance(lsn: string): Promise<void> {
    await this.#client
      .query('select pg_replication_slot_advance($1, $2::pg_lsn)', [this.#name, lsn])
      .catch(() => {});
  }

  /** Ending the session drops the (temporary) slot. */
  close(): Promise<void> {
    return this.#client.end().catch(() => {});
  }
}

/**
 * Follows the WAL this database writes, with pg_walinspect (PostgreSQL 15+). The WAL is the whole
 * cluster's: on a shared server other databases' writes (a test suite's CREATE DATABASE, say) land in
 * the same stream and the LSN difference counts them too. Records are attributed by the database OID in
 * their block references (records without any, such as commits, are left out). The WAL is read in
 * chunks while the work runs, since a checkpoint may recycle it before the work ends — but only every
 * 30 s: reading costs the server ~17 ms of CPU per MB written, which on two cores competes with the work
 * measured, so a pass of a few seconds must not be read until it is over.
 */
export class OwnWalTracker {
  readonly #client: pg.Pool;
  #from: string;
  readonly #parts = new Map<string, WalPart>();
  #failed = false;
  #busy: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;
  readonly #slot: WalSlot | null;
  #result: Promise<OwnWal | null> | undefined;

  private constructor(client: pg.Pool, from: string, everyMs: number, slot: WalSlot | null) {
    this.#client = client;
    this.#from = from;
    this.#slot = slot;
    this.#timer = setInterval(() => {
      this.#busy = this.#busy.then(() => this.#read());
    }, everyMs);
  }

  static async start(client: pg.Pool, everyMs = 30_000): Promise<OwnWalTracker> {
    const slot = await WalSlot.open(client);
    const { rows } = await client.query('select pg_current_wal_flush_lsn()::text as lsn');
    return new OwnWalTracker(client, rows[0].lsn, everyMs, slot);
  }

  /**
   * Reads the rest and stops following; later calls return the same result. Null when part of the WAL
   * could not be read (no pg_walinspect, or a checkpoint recycled it before it was read).
   */
  stop(): Promise<OwnWal | null> {
    this.#result ??= (async () => {
      clearInterval(this.#timer);
      await this.#busy;
      await this.#read();
      await this.#slot?.close();
      if (this.#failed) return null;
      const parts = [...this.#parts.values()].sort((a, b) => b.bytes - a.bytes);
      return { bytes: parts.reduce((a, p) => a + p.bytes, 0), parts };
    })();
    return this.#result;
  }

  async #read(): Promise<void> {
    if (this.#failed) return;
    try {
      const { rows } = await this.#client.query(
        'select pg_current_wal_flush_lsn()::text as lsn, pg_current_wal_flush_lsn() > $1::pg_lsn as moved',
        [this.#from],
      );
      if (!rows[0].moved) return;
      const to: string = rows[0].lsn;
      for (const r of (await this.#client.query(OWN_RECORDS, [this.#from, to])).rows) {
        const p = this.#parts.get(r.record) ?? { record: r.record, count: 0, bytes: 0, fpiBytes: 0 };
        p.count += r.count;
        p.bytes += r.bytes;
        p.fpiBytes += r.fpi;
        this.#parts.set(r.record, p);
      }
      this.#from = to;
      await this.#slot?.advance(to);
    } catch {
      this.#failed = true;
    }
  }
}

export interface TimedWrites {
  s: number;
  /** The whole cluster's WAL (pg_current_wal_lsn() before and after). */
  walBytes: number;
  /** The part of walBytes that touched this database (null when it could not be read back). */
  ownWalBytes: number | null;
}

export interface WalWritten {
  /** The whole cluster's WAL (pg_current_wal_lsn() before and after). */
  bytes: number;
  /** The part that touched this database; null when it could not be read back. */
  own: OwnWal | null;
}

/** Runs `work` and measures the WAL written meanwhile; the WAL is read back after `work` has returned. */
export async function walDuring<T>(
  pool: pg.Pool,
  work: () => Promise<T>,
): Promise<{ value: T; wal: WalWritten }> {
  const lsn = await walLsn(pool);
  const tracker = await OwnWalTracker.start(pool);
  const value = await work().finally(() => tracker.stop());
  return { value, wal: { bytes: await walBytesSince(pool, lsn), own: await tracker.stop() } };
}

/** Times `work` and measures the WAL it wrote; the clock stops before the WAL is read back. */
export async function timedWrites(pool: pg.Pool, work: () => Promise<void>): Promise<TimedWrites> {
  const { value: s, wal } = await walDuring(pool, async () => {
    const started = performance.now();
    await work();
    return (performance.now() - started) / 1000;
  });
  return { s, walBytes: wal.bytes, ownWalBytes: wal.own?.bytes ?? null };
}

export interface TableWrites {
  ins: number;
  upd: number;
  /** A subset of upd: updates that needed no index change. */
  hotUpd: number;
  del: number;
}

/**
 * Cumulative write counters of one table. Backends publish them when their transaction ends or, at the
 * latest, when they exit; read them after the writer has exited and they are final.
 */
export async function tableWrites(
  client: pg.Pool | pg.ClientBase,
  schema: string,
  table: string,
): Promise<TableWrites> {
  const { rows } = await client.query(
    `select n_tup_ins::float8 as ins, n_tup_upd::float8 as upd, n_tup_hot_upd::float8 as hot, n_tup_del::float8 as del
     from pg_stat_user_tables where schemaname = $1 and relname = $2`,
    [schema, table],
  );
  const r = rows[0] ?? { ins: 0, upd: 0, hot: 0, del: 0 };
  return { ins: r.ins, upd: r.upd, hotUpd: r.hot, del: r.del };
}

export function writesDelta(before: TableWrites, after: TableWrites): TableWrites {
  return {
    ins: after.ins - before.ins,
    upd: after.upd - before.upd,
    hotUpd: after.hotUpd - before.hotUpd,
    del: after.del - before.del,
  };
}

/**
 * Waits until the table's counters stop moving (an exited backend's last report can land a moment after
 * its process is gone), then returns them.
 */
export async function settledTableWrites(
  client: pg.Pool | pg.ClientBase,
  schema: string,
  table: string,
): Promise<TableWrites> {
  let last = await tableWrites(client, schema, table);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const next = await tableWrites(client, schema, table);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}

// --- small statistics ---------------------------------------------------------------------------------

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
