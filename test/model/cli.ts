// Longer runs of the model check than CI's fixed seeds (test/model/history.test.ts), one database per seed
// on TEST_DATABASE_URL's server:
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//     node test/model/cli.ts --seeds 1-200 --rounds 12 [--joins] [--big] [--mode all|changed|none]
//       [--no-faults] [--keep] [--verbose]
// Exits 1 when a seed fails; --keep keeps a failing seed's database for a look.
import { parseArgs } from 'node:util';
import { createTestDatabase } from '../helpers/db.ts';
import { DETAILS_MODES, type DetailsMode } from './details.ts';
import { runSeed, type SeedOptions } from './run.ts';

const USAGE =
  'usage: node test/model/cli.ts [--seeds 1-200|7|1,5,9] [--rounds 12] [--joins] [--big] ' +
  '[--mode all|changed|none] [--no-faults] [--keep] [--verbose]';

function parseSeeds(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    if (!Number.isInteger(from) || !Number.isInteger(to) || to! < from!)
      throw new Error(`bad --seeds ${spec}`);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string', default: '1-10' },
      rounds: { type: 'string', default: '8' },
      joins: { type: 'boolean', default: false },
      big: { type: 'boolean', default: false },
      mode: { type: 'string' },
      'no-faults': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const mode = values.mode as DetailsMode | undefined;
  if (mode !== undefined && !DETAILS_MODES.includes(mode)) throw new Error(`bad --mode ${mode}`);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 0) throw new Error(`bad --rounds ${values.rounds}`);
  return { ...values, seeds: parseSeeds(values.seeds), rounds, mode };
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('set TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test');
  const coverage: Record<string, number> = {};
  let failing = 0;
  let rounds = 0;
  for (const seed of o.seeds) {
    const options: SeedOptions = { seed, rounds: o.rounds, joinHeavy: o.joins, big: o.big, mode: o.mode };
    options.faults = !o['no-faults'];
    const db = await createTestDatabase({ adminUrl });
    const result = await runSeed(db, options);
    rounds += result.rounds;
    for (const [k, n] of Object.entries(result.coverage)) coverage[k] = (coverage[k] ?? 0) + n;
    if (result.failure) {
      failing++;
      console.log(`${result.failure}\n`);
    } else if (o.verbose) console.log(`seed ${seed} (mode ${result.mode}) ok`);
    if (result.failure && o.keep) {
      await db.pool.end();
      console.log(`kept ${db.url}`);
    } else await db.drop();
  }
  console.log(JSON.stringify(coverage));
  console.log(`done: ${o.seeds.length} seeds, ${rounds} runs checked, ${failing} failing seeds`);
  return failing ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error((err as Error).message);
  console.error(USAGE);
  process.exitCode = 2;
}
