import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState } from '../../../test/helpers/nodes.ts';
import { cronJob, latestTickAtOrBefore, nextTicks } from './cron.ts';
import { scheduleNode } from './index.ts';

describe('schedule node', () => {
  it('fills its defaults on save: UTC, catch up one missed tick', () => {
    expect(scheduleNode.schema.parse({ cron: '*/5 * * * *' })).toEqual({
      cron: '*/5 * * * *',
      timezone: 'UTC',
      catch_up: 'one',
    });
  });

  it('takes five fields, six with seconds first, and nicknames, in IANA time zones', () => {
    for (const cron of ['*/5 * * * *', '*/10 * * * * *', '0 9 * * 1-5', '@hourly'])
      expect(configProblems(scheduleNode, { cron, timezone: 'Europe/Oslo' }), cron).toEqual([]);
  });

  it('refuses an invalid cron and an unknown time zone, naming each', () => {
    expect(configProblems(scheduleNode, { cron: '61 * * * *', timezone: 'Mars/Base' })).toEqual([
      expect.stringMatching(/^cron: "61 \* \* \* \*" is not a valid cron: .*minute/),
      'timezone: "Mars/Base" is not an IANA time zone (such as "UTC", "Europe/Oslo" or "America/New_York")',
    ]);
    expect(configProblems(scheduleNode, { cron: '* * * *' })).toEqual([
      'cron: "* * * *" has 4 fields: a cron has five (minute hour day month weekday) or six (seconds first)',
    ]);
    expect(configProblems(scheduleNode, { cron: '0 0 0 1 1 * 2030' })).toEqual([
      expect.stringMatching(/has 7 fields/),
    ]);
    expect(configProblems(scheduleNode, { cron: '0 0 30 2 *' })).toEqual([
      'cron: "0 0 30 2 *" never matches a date',
    ]);
    expect(configProblems(scheduleNode, { cron: '', catch_up: 'all' })).toEqual([
      'cron: a cron expression, such as "*/5 * * * *"',
      expect.stringMatching(/^catch_up: /),
    ]);
  });

  it('computes ticks in its time zone, a tick exactly at the reference counting as due', () => {
    const job = cronJob('0 9 * * *', 'Europe/Oslo');
    expect(nextTicks(job, new Date('2026-06-01T00:00:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2026-06-01T07:00:00.000Z',
      '2026-06-02T07:00:00.000Z',
    ]);
    const every5s = cronJob('*/5 * * * * *', 'UTC');
    expect(latestTickAtOrBefore(every5s, new Date('2026-01-01T00:00:10.000Z'))?.toISOString()).toBe(
      '2026-01-01T00:00:10.000Z',
    );
    expect(latestTickAtOrBefore(every5s, new Date('2026-01-01T00:00:14.999Z'))?.toISOString()).toBe(
      '2026-01-01T00:00:10.000Z',
    );
  });

  it('records the tick when a run passes through it', async () => {
    const tick = { time: '2026-01-01T00:05:00.000Z', cron: '*/5 * * * *', timezone: 'UTC' };
    const { result } = await runNode(
      scheduleNode,
      { cron: '*/5 * * * *' },
      { state: runState({ method: 'SCHEDULE', path: '', body: tick }) },
    );
    expect(result).toEqual({ kind: 'done', output: tick });
  });
});
