// `demo`: the whole job in one command, without credentials: the built-in simulator in this process,
// a full sync into the configured database (the embedded one by default), progress, then the report.
import { randomBytes } from 'node:crypto';
import { CONFIG_DEFAULTS, type Config, parseDatabase } from '../config.ts';
import type { DatabaseConfig, Queryable } from '../db/database.ts';
import { createLogger } from '../log.ts';
import { loadReport, reportText } from '../reporting/report.ts';
import { type Column, renderTable } from '../reporting/text-table.ts';
import { SimNetwork, startSimulator } from '../simulator/index.ts';
import { poolSizeFor } from '../sync/job.ts';
import { migrate, openConfigured } from './database.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { parseNetworkOptions } from './network-options.ts';
import { checkOutcome } from './outcome.ts';
import { syncWithProgress, terminalStatus } from './progress.ts';
import { handleShutdown } from './shutdown.ts';

const DEMO_CORP_ID = 'wwdemo';

interface TopGroup {
  chain_name: string;
  path: string;
  corps: number;
  pending: number;
}

const TOP_GROUPS_SQL = `
select chain_name, coalesce(nullif(group_path, ''), '(root)') as path, count(*)::int as corps,
       count(*) filter (where not is_joined)::int as pending
from wecom.corps_current where upstream_corpid = $1
group by 1, 2 order by corps desc, path limit 10`;

async function topGroups(db: Queryable): Promise<string> {
  const { rows } = await db.query<TopGroup>(TOP_GROUPS_SQL, [DEMO_CORP_ID]);
  const columns: Column<TopGroup>[] = [
    { header: 'CHAIN', value: (r) => r.chain_name },
    { header: 'GROUP', value: (r) => r.path },
    { header: 'CORPS', align: 'right', value: (r) => String(r.corps) },
    { header: 'PENDING', align: 'right', value: (r) => String(r.pending) },
  ];
  return renderTable(columns, rows);
}

/** The job's settings for the simulator: the defaults, with WeCom's limits raised as the simulator's are. */
function demoConfig(database: DatabaseConfig, apiBase: string, corpSecret: string): Config {
  const d = CONFIG_DEFAULTS;
  return {
    database,
    wecom: {
      apiBase,
      corpId: DEMO_CORP_ID,
      corpSecret,
      ratePerMinute: 1_000_000,
      ratePerHour: 60_000_000,
      concurrency: 48,
      timeoutMs: d.WECOM_TIMEOUT_MS,
      maxAttempts: 8,
      rateLimitPauseMs: 1_000,
    },
    sync: {
      pageSize: d.SYNC_PAGE_SIZE,
      chainConcurrency: d.SYNC_CHAIN_CONCURRENCY,
      details: d.SYNC_DETAILS,
      detailsMaxAgeHours: d.SYNC_DETAILS_MAX_AGE_HOURS,
    },
    shutdownTimeoutMs: d.SHUTDOWN_TIMEOUT_MS,
    metrics: { port: d.METRICS_PORT, pushgatewayUrl: null },
  };
}

export async function demoCommand(values: Record<string, unknown>): Promise<ExitCode> {
  const { spec, latencyMs, faultRate } = parseNetworkOptions('demo', values);
  const database = parseDatabase(process.env);
  const terminal = terminalStatus();
  const log = createLogger({ terminal: terminal?.logStream });
  const secret = randomBytes(16).toString('hex');
  // The simulated app is allowed far more than WeCom's 10,000 calls a minute, so a demo of 30,000 corps
  // is bounded by latency and concurrency and ends in seconds rather than minutes.
  const sim = await startSimulator({
    network: SimNetwork.generate(spec),
    corpId: DEMO_CORP_ID,
    corpSecret: secret,
    latencyMs,
    rateLimitPerMin: 10_000_000,
    rateLimitPerHour: 600_000_000,
    maxConcurrent: 1_000,
    seed: spec.seed,
  });
  if (faultRate > 0) sim.faults.setRandom({ rate: faultRate });
  const config = demoConfig(database, sim.url, secret);
  const shutdown = handleShutdown(log, config.shutdownTimeoutMs);
  const db = await openConfigured(database, log, poolSizeFor(config));
  try {
    await migrate(db, log, shutdown.signal);
    log.info(
      { chains: spec.chains, groups: spec.groups, corps: spec.corps, latencyMs, faultRate },
      'demo: syncing the simulated network',
    );
    const outcome = await syncWithProgress({ config, db, log, signal: shutdown.signal }, terminal);
    checkOutcome(outcome);
    // Fresh statistics for the report's plans: the embedded database has no autovacuum to gather them.
    await db.query('analyze');
    const report = await loadReport(db);
    const top = await topGroups(db);
    process.stdout.write(
      `\n${reportText(report)}\n\nLargest groups:\n${top}\n\n` +
        'Look around with: npx wecom-chain-sync sql "select * from wecom.chain_summary"\n',
    );
    return EXIT.ok;
  } finally {
    shutdown.dispose();
    await Promise.allSettled([db.close(), sim.close()]);
  }
}
