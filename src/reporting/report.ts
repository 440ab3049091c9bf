// What `report` reads (wecom.chain_summary and wecom.sync_freshness) and how it prints it.
import { SILENT_RUN_MS } from '../db/run-lock.ts';
import { type Column, renderTable } from './text-table.ts';

/** Anything that runs a statement: a pg Pool or Client, or the project's Database. */
export interface Querier {
  // biome-ignore lint/suspicious/noExplicitAny: rows are as loosely typed as the SQL that returns them
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

export interface ChainRow {
  upstream_corpid: string;
  chain_id: string;
  chain_name: string;
  groups: number;
  corps_joined: number;
  corps_pending: number;
  corps_unverified: number;
  corps_verified: number;
  corps_certified: number;
  corps_qualification_unknown: number;
  joined_last_7_days: number;
  joined_last_30_days: number;
  last_synced_at: Date | null;
}

export interface FreshnessRow {
  upstream_corpid: string;
  last_success_at: Date | null;
  /** Seconds since last_success_at; null when no run has succeeded. */
  age_seconds: number | null;
  last_run_id: number;
  last_run_status: string;
  last_run_started_at: Date;
  last_run_finished_at: Date | null;
  last_run_heartbeat_at: Date;
  /** Seconds since last_run_heartbeat_at, by the database's clock. */
  last_run_heartbeat_age_seconds: number;
}

export interface Report {
  chains: ChainRow[];
  freshness: FreshnessRow[];
}

const CHAINS_SQL = `
select upstream_corpid, chain_id, chain_name, groups, corps_joined, corps_pending, corps_unverified,
       corps_verified, corps_certified, corps_qualification_unknown, joined_last_7_days, joined_last_30_days,
       last_synced_at
from wecom.chain_summary
order by upstream_corpid, chain_name, chain_id`;

const FRESHNESS_SQL = `
select upstream_corpid, last_success_at, extract(epoch from age)::float8 as age_seconds, last_run_id,
       last_run_status, last_run_started_at, last_run_finished_at, last_run_heartbeat_at,
       extract(epoch from now() - last_run_heartbeat_at)::float8 as last_run_heartbeat_age_seconds
from wecom.sync_freshness
order by upstream_corpid`;

export async function loadReport(db: Querier): Promise<Report> {
  const chains = (await db.query(CHAINS_SQL)).rows as ChainRow[];
  const freshness = (await db.query(FRESHNESS_SQL)).rows as FreshnessRow[];
  return { chains, freshness };
}

/** The report as one JSON document; timestamps as ISO 8601 in UTC. */
export function reportJson(report: Report): string {
  return JSON.stringify(report);
}

/** e.g. 45s, 12m 5s, 3h 20m, 2d 4h. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** YYYY-MM-DD HH:MM:SS in the process's zone (TZ). */
function formatTime(at: Date | null): string {
  if (at === null) return '-';
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/**
 * The process's zone by name, or by its offset now where it has no name ICU knows: TZ set empty (ICU's
 * Etc/Unknown, UTC) or a POSIX rule such as CST-8. Times are formatted in the zone itself, never by its name,
 * which Intl refuses for Etc/Unknown.
 */
function zoneLabel(): string {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (name && name !== 'Etc/Unknown') return name;
  const offset = new Intl.DateTimeFormat('en-US', { timeZoneName: 'longOffset' })
    .formatToParts(new Date())
    .find((p) => p.type === 'timeZoneName')?.value;
  return `local time, ${offset} now`;
}

const n = (v: number) => String(v);

/** A run recorded as running whose process is gone (killed with -9, say) shows so until the next run. */
function runStatus(r: FreshnessRow): string {
  const silent = r.last_run_heartbeat_age_seconds;
  return r.last_run_status === 'running' && silent * 1000 > SILENT_RUN_MS
    ? `running (no heartbeat for ${formatAge(silent)})`
    : r.last_run_status;
}

/** Two aligned tables, for a person at a terminal. Times in the process's zone. */
export function reportText(report: Report): string {
  const chainColumns: Column<ChainRow>[] = [
    { header: 'UPSTREAM', value: (r) => r.upstream_corpid },
    { header: 'CHAIN ID', value: (r) => r.chain_id },
    { header: 'CHAIN', value: (r) => r.chain_name },
    { header: 'GROUPS', align: 'right', value: (r) => n(r.groups) },
    { header: 'JOINED', align: 'right', value: (r) => n(r.corps_joined) },
    { header: 'PENDING', align: 'right', value: (r) => n(r.corps_pending) },
    { header: 'UNVERIFIED', align: 'right', value: (r) => n(r.corps_unverified) },
    { header: 'VERIFIED', align: 'right', value: (r) => n(r.corps_verified) },
    { header: 'CERTIFIED', align: 'right', value: (r) => n(r.corps_certified) },
    { header: 'UNKNOWN', align: 'right', value: (r) => n(r.corps_qualification_unknown) },
    { header: 'JOINED 7D', align: 'right', value: (r) => n(r.joined_last_7_days) },
    { header: 'JOINED 30D', align: 'right', value: (r) => n(r.joined_last_30_days) },
    { header: 'LAST SYNCED', value: (r) => formatTime(r.last_synced_at) },
  ];
  const freshnessColumns: Column<FreshnessRow>[] = [
    { header: 'UPSTREAM', value: (r) => r.upstream_corpid },
    { header: 'LAST SUCCESS', value: (r) => formatTime(r.last_success_at) },
    { header: 'AGE', align: 'right', value: (r) => formatAge(r.age_seconds) },
    { header: 'LAST RUN', align: 'right', value: (r) => n(r.last_run_id) },
    { header: 'STATUS', value: runStatus },
    { header: 'STARTED', value: (r) => formatTime(r.last_run_started_at) },
    { header: 'FINISHED', value: (r) => formatTime(r.last_run_finished_at) },
  ];
  const chains = report.chains.length ? renderTable(chainColumns, report.chains) : '(no chains synced yet)';
  const freshness = report.freshness.length
    ? renderTable(freshnessColumns, report.freshness)
    : '(no sync runs yet)';
  return `Chains (qualification counts are of joined corps; times in ${zoneLabel()})\n${chains}\n\nSync freshness\n${freshness}\n`;
}
