// src/wecom/undici-lean.ts loads two of undici's files by path, which is not a public entry point: these fail
// if an update moves them, and if anything on the run path imports undici's index again (13 MiB of RSS).
import { createServer } from 'node:http';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool, request } from '../../src/wecom/undici-lean.ts';
import { loadedPackageFiles } from '../helpers/loaded-modules.ts';

describe('undici without its index', () => {
  const server = createServer((req, res) => res.end(JSON.stringify({ method: req.method, url: req.url })));
  let origin = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("is the index's Pool, and its request() sends through any dispatcher", async () => {
    expect(Pool).toBe(undici.Pool);
    const pool = new Pool(origin, { connections: 1 });
    try {
      const response = await request(pool, {
        origin,
        path: '/a',
        method: 'POST',
        query: { b: 'c' },
        body: '',
      });
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toEqual({ method: 'POST', url: '/a?b=c' });
    } finally {
      await pool.close();
    }
  });

  it('is all of undici the run and scheduler paths load', async () => {
    const files = await loadedPackageFiles(
      ['src/cli/run-command.ts', 'src/cli/schedule-command.ts'],
      'undici',
    );
    expect(files.some((url) => url.endsWith('/undici/lib/dispatcher/pool.js'))).toBe(true);
    expect(files.filter((url) => url.endsWith('/undici/index.js'))).toEqual([]);
  });
});
