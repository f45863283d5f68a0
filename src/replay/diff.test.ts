import { describe, expect, it } from 'vitest';
import { compareRuns, MAX_DIFFERENCES } from './diff.ts';

const run = (o: Partial<Parameters<typeof compareRuns>[0]> = {}) => ({
  status: 'succeeded',
  error: null,
  vars: {},
  response: null,
  ...o,
});

describe('comparing a run with its replay', () => {
  it('finds no differences between equal runs, whatever the key order', () => {
    expect(
      compareRuns(run({ vars: { a: 1, b: { c: [1, 2] } } }), run({ vars: { b: { c: [1, 2] }, a: 1 } }))
        .differences,
    ).toEqual([]);
  });

  it('lists the differing paths of vars, status and error, with both values', () => {
    const d = compareRuns(
      run({ vars: { total: 10, items: [1, 2], 'odd key': 'x' } }),
      run({ status: 'failed', error: 'boom', vars: { total: 11, items: [1], extra: true, 'odd key': 'y' } }),
    ).differences;
    expect(d).toEqual([
      { path: 'status', original: 'succeeded', replay: 'failed' },
      { path: 'error', original: null, replay: 'boom' },
      { path: 'vars.extra', original: null, replay: true },
      { path: 'vars.items[1]', original: 2, replay: null },
      { path: 'vars["odd key"]', original: 'x', replay: 'y' },
      { path: 'vars.total', original: 10, replay: 11 },
    ]);
  });

  it('compares a JSON response body by value, and a missing response as a whole', () => {
    const a = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"total":10,"id":"x"}' };
    const b = { ...a, body: '{"id":"x","total":11}' };
    expect(compareRuns(run({ response: a }), run({ response: b })).differences).toEqual([
      { path: 'response.body.total', original: 10, replay: 11 },
    ]);
    expect(compareRuns(run({ response: a }), run()).differences).toEqual([
      { path: 'response', original: a, replay: null },
    ]);
  });

  it(`keeps at most ${MAX_DIFFERENCES} differences and says there were more`, () => {
    const vars = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]));
    const r = compareRuns(run({ vars }), run());
    expect(r.differences).toHaveLength(MAX_DIFFERENCES);
    expect(r.more).toBe(true);
  });
});
