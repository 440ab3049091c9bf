// The fastest a minimal client gets from the simulator on this machine: CALLS get_chain_corpinfo calls,
// CONCURRENCY at a time, over an undici Pool, nothing else (no validation, no database). Its calls per
// second turn the simulator's nominal latency into the latency a request really sees here — timers,
// HTTP and the shared CPUs included — so a sync's wall time can be judged against what is achievable.
//
// calibrate() runs this file as a child (env: WECOM_API_BASE, WECOM_CORP_ID, WECOM_CORP_SECRET,
// WECOM_CONCURRENCY, BENCH_CALLS), which prints one JSON line.
import { Pool } from 'undici';
import { runChild } from './child.ts';
import { CORP_ID, SECRET } from './workload.ts';

export interface Calibration {
  concurrency: number;
  calls: number;
  s: number;
  perS: number;
  /** The latency a request really took at this concurrency: concurrency / calls per second. */
  latencyMs: number;
}

/** `rounds` calls per slot at `concurrency`, against the simulator at `url`. */
export async function calibrate(url: string, concurrency: number, rounds = 100): Promise<Calibration> {
  const child = await runChild({
    nodeArgs: [new URL(import.meta.url).pathname],
    cwd: process.cwd(),
    simPort: Number(new URL(url).port),
    env: {
      WECOM_API_BASE: url,
      WECOM_CORP_ID: CORP_ID,
      WECOM_CORP_SECRET: SECRET,
      WECOM_CONCURRENCY: String(concurrency),
      BENCH_CALLS: String(concurrency * rounds),
    },
  });
  if (child.exitCode !== 0) throw new Error(`calibration failed:\n${child.stderrTail}`);
  return { concurrency, ...JSON.parse(child.stdoutTail) };
}

async function main(): Promise<void> {
  const env = process.env;
  const base = env.WECOM_API_BASE!;
  const concurrency = Number(env.WECOM_CONCURRENCY);
  const calls = Number(env.BENCH_CALLS);
  const pool = new Pool(base, { connections: concurrency * 2, pipelining: 1 });
  // biome-ignore lint/suspicious/noExplicitAny: a calibration trusts the simulator's answers.
  const get = async (path: string, body?: object): Promise<any> => {
    const res = await pool.request({
      path,
      method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : null,
    });
    return res.body.json();
  };
  const query = new URLSearchParams({ corpid: env.WECOM_CORP_ID!, corpsecret: env.WECOM_CORP_SECRET! });
  const token = (await get(`/cgi-bin/gettoken?${query}`)).access_token;
  const at = `?access_token=${token}`;
  const chains: { chain_id: string }[] = (await get(`/cgi-bin/corpgroup/corp/get_chain_list${at}`)).chains;
  const chainId = chains[0]!.chain_id;
  const page = await get(`/cgi-bin/corpgroup/corp/get_chain_corpinfo_list${at}`, {
    chain_id: chainId,
    limit: 100,
  });
  const corpids = (page.group_corps as { corpid: string }[]).map((c) => c.corpid);

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const corpid = corpids[next++ % corpids.length];
      await get(`/cgi-bin/corpgroup/corp/get_chain_corpinfo${at}`, { chain_id: chainId, corpid });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (performance.now() - started) / 1000;
  await pool.close();
  process.stdout.write(
    `${JSON.stringify({ calls, s, perS: calls / s, latencyMs: (s * 1000 * concurrency) / calls })}\n`,
  );
}

if (import.meta.main) await main();
