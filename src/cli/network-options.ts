// The options `simulate` and `demo` share: the size and shape of the generated network, latency, faults.
import type { ParseArgsOptionsConfig } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import type { NetworkSpec } from '../simulator/index.ts';
import type { Command } from './commands.ts';
import { UsageError } from './exit-codes.ts';

type Values = Record<string, unknown>;

export const NETWORK_OPTIONS = {
  seed: { type: 'string' },
  chains: { type: 'string' },
  groups: { type: 'string' },
  corps: { type: 'string' },
  pending: { type: 'string' },
  depth: { type: 'string' },
  'latency-ms': { type: 'string' },
  'fault-rate': { type: 'string' },
} satisfies ParseArgsOptionsConfig;

export const NETWORK_HELP = `  --seed N          network seed, default 1
  --chains N        default 3
  --groups N        groups across all chains, default 300
  --corps N         corps across all chains, default 30000 (held in memory, ~340 bytes each: a network that
                    would not fit the heap is refused; about 1,200,000 fit the CLI's 512 MB, 800,000 in demo)
  --pending R       share of corps not yet joined, 0..1, default 0.15
  --depth N         deepest group level, 1..6, default 5
  --latency-ms N    each answer leaves N ms after its request arrived, default 20
  --fault-rate R    share of requests that fail transiently (-1, 45033, 502, dropped), default 0`;

export function numberOption(
  command: Command,
  values: Values,
  name: string,
  fallback: number,
  [min, max]: [number, number],
  whole = true,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const valid = typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(value);
  if (!valid || (whole && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be a ${whole ? 'whole ' : ''}number, got "${String(raw)}"`, command);
  }
  if (value < min || value > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}`, command);
  return value;
}

export interface NetworkOptions {
  spec: NetworkSpec;
  latencyMs: number;
  faultRate: number;
}

export function parseNetworkOptions(command: Command, values: Values): NetworkOptions {
  const num = (name: string, fallback: number, range: [number, number], whole = true) =>
    numberOption(command, values, name, fallback, range, whole);
  const spec: NetworkSpec = {
    seed: num('seed', 1, [0, 2 ** 31]),
    chains: num('chains', 3, [1, 1_000]),
    groups: num('groups', 300, [0, 1_000_000]),
    corps: num('corps', 30_000, [0, 10_000_000]),
    pendingRatio: num('pending', 0.15, [0, 1], false),
    maxDepth: num('depth', 5, [1, 6]),
  };
  checkNetworkFits(command, spec);
  return {
    spec,
    latencyMs: num('latency-ms', 20, [0, 60_000]),
    faultRate: num('fault-rate', 0, [0, 1], false),
  };
}

// What a generated network keeps on V8's heap, measured: 260 to 330 bytes a corp (more when pending, more over many
// groups) and ~130 a group, and generating groups takes several times that while it runs. Past three quarters of
// the heap's ceiling the process would end with V8's "heap out of memory" abort instead (1,600,000 pending corps
// under the CLI's 512 MB); `demo` also runs the sync in the same heap, so it takes half.
const CORP_BYTES = 340;
const GROUP_BYTES = 650;

/** Refuses, in one line, a network that would not fit this process's heap. */
function checkNetworkFits(command: Command, spec: NetworkSpec): void {
  const heapLimit = getHeapStatistics().heap_size_limit;
  const need = spec.corps * CORP_BYTES + spec.groups * GROUP_BYTES;
  const share = command === 'demo' ? 0.5 : 0.75;
  if (need <= share * heapLimit) return;
  const mb = (bytes: number) => Math.ceil(bytes / 2 ** 20);
  throw new UsageError(
    `--corps ${spec.corps} and --groups ${spec.groups} need about ${mb(need)} MB of heap for the network, and ${command} may use ${mb(share * heapLimit)} MB of its ${mb(heapLimit)}: fewer, or node --max-old-space-size`,
    command,
  );
}
