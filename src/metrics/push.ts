// A batch `run` cannot be scraped; as Prometheus recommends, it pushes its metrics once, at the end.
import { Pushgateway, type Registry } from 'prom-client';

export async function pushMetrics(url: string, registry: Registry, upstreamCorpid: string): Promise<void> {
  const gateway = new Pushgateway(url, { timeout: 5_000 }, registry);
  // Grouped by corp, so syncs of several corps do not overwrite each other. PUT, replacing the group: a
  // POST replaces only the metric families it carries, and a family without samples (no API errors this
  // run) is dropped by the gateway's parser, so a failed run's error counts would stay up for good.
  await gateway.push({ jobName: 'wecom_chain_sync', groupings: { upstream_corpid: upstreamCorpid } });
}
