import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.ts';

/** A write that records its batches and answers each item doubled; items named in `bad` fail the batch. */
function recorder(bad: Set<number> = new Set(), gate?: Promise<void>) {
  const batches: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const write = async (items: number[]) => {
    batches.push(items);
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    try {
      await (gate ?? Promise.resolve());
      if (items.some((i) => bad.has(i))) throw new Error(`bad item in ${items.join(',')}`);
      return items.map((i) => i * 2);
    } finally {
      concurrent--;
    }
  };
  return { batches, write, maxConcurrent: () => maxConcurrent };
}

describe('Batcher', () => {
  it('writes the items handed in during one turn of the event loop together, answering each its own result', async () => {
    const r = recorder();
    const b = new Batcher(r.write, { maxBatch: 100, maxInFlight: 1 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => b.add(i)));
    expect(results).toEqual([2, 4, 6, 8]);
    expect(r.batches).toEqual([[1, 2, 3, 4]]);
  });

  it('splits at maxBatch and keeps at most maxInFlight batches in flight', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const r = recorder(new Set(), gate);
    const b = new Batcher(r.write, { maxBatch: 2, maxInFlight: 2 });
    const all = Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => b.add(i)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    open();
    expect(await all).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(r.batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.maxConcurrent()).toBe(2);
  });

  it('fails only the bad item of a failed batch: the rest are written one by one', async () => {
    const r = recorder(new Set([2]));
    const b = new Batcher(r.write, { maxBatch: 100, maxInFlight: 1 });
    const settled = await Promise.allSettled([1, 2, 3].map((i) => b.add(i)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[0]).toMatchObject({ value: 2 });
    expect(r.batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('gives a write that handles its own failures no second try', async () => {
    const batches: number[][] = [];
    const b = new Batcher(
      async (items: number[]) => {
        batches.push(items);
        return items.map(() => undefined);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    await Promise.all([1, 2].map((i) => b.add(i)));
    expect(batches).toEqual([[1, 2]]);
  });

  it('drain resolves once everything queued and in flight is written', async () => {
    const written: number[] = [];
    const b = new Batcher(
      async (items: number[]) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        written.push(...items);
        return items;
      },
      { maxBatch: 2, maxInFlight: 1 },
    );
    await b.drain(); // nothing queued: at once
    for (const i of [1, 2, 3, 4, 5]) void b.add(i);
    await b.drain();
    expect(written).toEqual([1, 2, 3, 4, 5]);
  });
});
