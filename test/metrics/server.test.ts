import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type MetricsServer, startMetricsServer } from '../../src/metrics/server.ts';

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(() => server?.close());

  it('answers /readyz 503 while the database does not answer, 200 once it does', async () => {
    let ready = false;
    server = await startMetricsServer(0, new Registry(), async () => ready);
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('treats a readiness check that throws as not ready', async () => {
    server = await startMetricsServer(0, new Registry(), () => Promise.reject(new Error('ECONNREFUSED')));
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(503);
  });
});
