// `simulate`: the built-in WeCom simulator on a port, until SIGTERM, SIGINT or SIGHUP.
import { SimNetwork, startSimulator } from '../simulator/index.ts';
import { EXIT, type ExitCode, ExitError } from './exit-codes.ts';
import { numberOption, parseNetworkOptions } from './network-options.ts';
import { STOP_SIGNALS } from './shutdown.ts';

type Values = Record<string, unknown>;

export async function simulateCommand(values: Values): Promise<ExitCode> {
  const corpId = typeof values['corp-id'] === 'string' ? values['corp-id'] : 'wwsimulator';
  const corpSecret = typeof values.secret === 'string' ? values.secret : 'simulator-secret';
  // A secret given on the command line is not printed back: it may be one that matters.
  const shownSecret = typeof values.secret === 'string' ? '<the --secret given>' : corpSecret;
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const port = numberOption('simulate', values, 'port', 8080, [0, 65_535]);
  const rateLimitPerMin = numberOption('simulate', values, 'rate-limit-per-min', 10_000, [1, 100_000_000]);
  const rateLimitPerHour = numberOption(
    'simulate',
    values,
    'rate-limit-per-hour',
    150_000,
    [1, 6_000_000_000],
  );
  const maxConcurrent = numberOption('simulate', values, 'max-concurrent', 200, [1, 1_000_000]);
  const { spec, latencyMs, faultRate } = parseNetworkOptions('simulate', values);

  const network = SimNetwork.generate(spec);
  const sim = await startSimulator({
    network,
    corpId,
    corpSecret,
    host,
    port,
    latencyMs,
    rateLimitPerMin,
    rateLimitPerHour,
    maxConcurrent,
  }).catch((err: NodeJS.ErrnoException) => {
    // A port in use or a host that does not resolve: the options' fault, not a crash or a database's.
    throw new ExitError(EXIT.usage, `simulate: cannot listen on ${host}:${port}: ${err.code ?? err.message}`);
  });
  if (faultRate > 0) sim.faults.setRandom({ rate: faultRate });
  process.stdout.write(
    `WeCom simulator listening on ${sim.url} (${spec.chains} chains, ${spec.groups} groups, ${spec.corps} corps)\n` +
      `Point the job at it with:\n  WECOM_API_BASE=${sim.url} WECOM_CORP_ID=${corpId} WECOM_CORP_SECRET=${shownSecret}\n`,
  );
  await new Promise<void>((resolve) => {
    for (const name of STOP_SIGNALS) process.once(name, resolve);
  });
  await sim.close();
  return EXIT.ok;
}
