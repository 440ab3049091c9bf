// Run by huge-cursors.test.ts with a small heap: one chain whose root group's listing never ends, each page
// the same corp with has_more and a new cursor of CURSOR_MB. Prints the run's outcome as JSON.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { runSync } from '../../src/sync/run.ts';

const CURSOR_MB = 2;
const corp = {
  isJoined: true as const,
  corpid: 'wwonly',
  corpName: '唯一',
  customId: '',
  groupid: 1,
  inviteUserid: null,
};

const db = await openDatabase({ driver: 'postgres', url: process.argv[2]! }, { poolSize: 2 });
try {
  const outcome = await runSync({
    db,
    api: {
      getChainList: async () => [{ chainId: 'c', chainName: '链' }],
      getChainGroups: async () => [],
      listCorps: async () => ({
        corps: [corp],
        hasMore: true,
        // Parsed from JSON, as the client's are: a string in V8's heap (Buffer#toString makes one this large
        // outside it, where the heap's limit does not reach), and a new one each time.
        nextCursor: JSON.parse(`"${randomBytes(CURSOR_MB * 512 * 1024).toString('hex')}"`),
      }),
      getCorpInfo: async () => {
        throw new Error('not asked: SYNC_DETAILS=none');
      },
      stats: () => ({ calls: {}, retries: {}, errors: {}, tokenRefreshes: 0 }),
    },
    upstreamCorpid: 'wwup',
    sync: { pageSize: 1, chainConcurrency: 1, details: 'none', detailsMaxAgeHours: 24 },
    apiConcurrency: 2,
    log: pino({ level: 'silent' }),
  });
  process.stdout.write(JSON.stringify({ status: outcome.status, failures: outcome.stats.failures }));
} finally {
  await db.close();
}
