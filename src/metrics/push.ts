// A batch `run` cannot be scraped; as Prometheus recommends, it pushes its metrics once, at the end.
import { Pushgateway, type Registry } from 'prom-client';

export async function pushMetrics(url: string, registry: Registry, upstreamCorpid: string): Promise<void> {
  const gateway = new Pushgateway(url, { timeout: 5_000 }, registry);
  // Grouped by corp, so syncs of several corps do not overwrite each other.
  await gateway.pushAdd({ jobName: 'wecom_chain_sync', groupings: { upstream_corpid: upstreamCorpid } });
}
