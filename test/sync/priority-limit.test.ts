import { describe, expect, it } from 'vitest';
import { PriorityLimit } from '../../src/sync/priority-limit.ts';

describe('PriorityLimit', () => {
  it('starts waiting urgent tasks before the others, each kind in the order it arrived', async () => {
    const limit = new PriorityLimit(1);
    const order: string[] = [];
    const gate = Promise.withResolvers<void>();
    const blocker = limit.run(() => gate.promise, false);
    const queued = [
      ['other1', false],
      ['urgent1', true],
      ['other2', false],
      ['urgent2', true],
    ].map(([name, urgent]) =>
      limit.run(async () => {
        order.push(name as string);
      }, urgent as boolean),
    );
    gate.resolve();
    await Promise.all([blocker, ...queued]);
    expect(order).toEqual(['urgent1', 'urgent2', 'other1', 'other2']);
  });

  it('runs at most `concurrency` tasks at once, and a failed task gives its slot back', async () => {
    const limit = new PriorityLimit(2);
    let running = 0;
    let most = 0;
    const task = (fail: boolean) => async () => {
      most = Math.max(most, ++running);
      await new Promise(setImmediate);
      running--;
      if (fail) throw new Error('failed');
    };
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) => limit.run(task(i % 3 === 0), i % 2 === 0)),
    );
    expect(most).toBe(2);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
  });
});
