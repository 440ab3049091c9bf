// `simulate`: the built-in WeCom simulator on a port, until SIGINT or SIGTERM.
import { SimNetwork, startSimulator } from '../simulator/index.ts';
import { UsageError } from './commands.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

type Values = Record<string, unknown>;

function numberOption(
  values: Values,
  name: string,
  fallback: number,
  min: number,
  max: number,
  whole = true,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (whole && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `--${name} must be a ${whole ? 'whole ' : ''}number, got "${String(raw)}"`,
      'simulate',
    );
  }
  if (value < min || value > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}`, 'simulate');
  return value;
}

export async function simulateCommand(values: Values): Promise<ExitCode> {
  const corpId = typeof values['corp-id'] === 'string' ? values['corp-id'] : 'wwsimulator';
  const corpSecret = typeof values.secret === 'string' ? values.secret : 'simulator-secret';
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const port = numberOption(values, 'port', 8080, 0, 65_535);
  const spec = {
    seed: numberOption(values, 'seed', 1, 0, 2 ** 31),
    chains: numberOption(values, 'chains', 3, 1, 1_000),
    groups: numberOption(values, 'groups', 300, 0, 1_000_000),
    corps: numberOption(values, 'corps', 30_000, 0, 10_000_000),
    pendingRatio: numberOption(values, 'pending', 0.15, 0, 1, false),
    maxDepth: numberOption(values, 'depth', 5, 1, 6),
  };
  const latencyMs = numberOption(values, 'latency-ms', 20, 0, 60_000);
  const faultRate = numberOption(values, 'fault-rate', 0, 0, 1, false);
  const rateLimitPerMin = numberOption(values, 'rate-limit-per-min', 10_000, 1, 100_000_000);

  const sim = await startSimulator({
    network: SimNetwork.generate(spec),
    corpId,
    corpSecret,
    host,
    port,
    latencyMs,
    rateLimitPerMin,
  });
  if (faultRate > 0) sim.faults.setRandom({ rate: faultRate });
  process.stdout.write(
    `WeCom simulator listening on ${sim.url} (${spec.chains} chains, ${spec.groups} groups, ${spec.corps} corps)\n` +
      `Point the job at it with:\n  WECOM_API_BASE=${sim.url} WECOM_CORP_ID=${corpId} WECOM_CORP_SECRET=${corpSecret}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  return EXIT.ok;
}
