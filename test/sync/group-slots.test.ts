import { describe, expect, it } from 'vitest';
import { GroupSlots } from '../../src/sync/group-slots.ts';

/** Work whose items each wait until the test ends them, recording the order they started in. */
function controlled() {
  const started: string[] = [];
  const finishers = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  const signals = new Map<string, AbortSignal>();
  const work = (item: string, signal: AbortSignal): Promise<void> => {
    started.push(item);
    signals.set(item, signal);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    finishers.set(item, { resolve, reject });
    return promise;
  };
  const finish = async (item: string, error?: Error): Promise<void> => {
    const f = finishers.get(item)!;
    if (error) f.reject(error);
    else f.resolve();
    // Let the slot pass on before the test looks.
    await new Promise(setImmediate);
  };
  return { started, signals, work, finish };
}

const never = new AbortController().signal;

describe('GroupSlots', () => {
  it('gives every free slot to the chain that asked first until it has nothing left to start', async () => {
    const slots = new GroupSlots(2);
    const { started, work, finish } = controlled();
    const a = slots.each(['a1', 'a2', 'a3', 'a4'], never, work);
    const b = slots.each(['b1', 'b2'], never, work);
    expect(started).toEqual(['a1', 'a2']);
    await finish('a1');
    await finish('a2');
    // Taking turns would have started b1 here.
    expect(started).toEqual(['a1', 'a2', 'a3', 'a4']);
    await finish('a3');
    expect(started).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
    await finish('a4');
    await a;
    await finish('b1');
    await finish('b2');
    await b;
    expect(started).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2']);
  });

  it('on a failure starts no more of that chain, aborts its running items and throws once they settle', async () => {
    const slots = new GroupSlots(3);
    const { started, signals, work, finish } = controlled();
    let settled = false;
    const a = slots.each(['a1', 'a2', 'a3', 'a4'], never, work).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    void a.finally(() => {
      settled = true;
    });
    const b = slots.each(['b1'], never, work);
    const boom = new Error('boom');
    await finish('a1', boom);
    expect(signals.get('a2')!.aborted).toBe(true);
    expect(signals.get('a3')!.aborted).toBe(true);
    // The freed slot goes to the next chain, not to a4.
    expect(started).toEqual(['a1', 'a2', 'a3', 'b1']);
    await finish('a2');
    expect(settled).toBe(false);
    await finish('a3');
    expect(await a).toBe(boom);
    expect(signals.get('b1')!.aborted).toBe(false);
    await finish('b1');
    await b;
  });

  it('settles at once for a chain with nothing to list, and refuses a size below one', async () => {
    await new GroupSlots(1).each([], never, async () => {});
    expect(() => new GroupSlots(0)).toThrow(RangeError);
  });
});
