// The scheduler's HTTP endpoints: /metrics for Prometheus, /healthz (the process answers), /readyz (the
// database answers).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from '../config.ts';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(
  port: number,
  registry: Registry,
  ready: () => Promise<boolean>,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (req.method !== 'GET') return answer(405, 'method not allowed\n');
    if (path === '/healthz') return answer(200, 'ok\n');
    if (path === '/readyz') {
      ready().then(
        (ok) => answer(ok ? 200 : 503, ok ? 'ready\n' : 'database unreachable\n'),
        () => answer(503, 'database unreachable\n'),
      );
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => answer(200, text, registry.contentType),
        (err: Error) => answer(500, `${err.message}\n`),
      );
      return;
    }
    answer(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const taken = err.code === 'EADDRINUSE' || err.code === 'EACCES';
      reject(taken ? new ConfigError('METRICS_PORT', `cannot listen on port ${port}: ${err.code}`) : err);
    });
    server.listen(port, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
