/**
 * The schedule trigger's settings (docs/api.md §4.8): its cron (five fields, or six with seconds
 * first), the IANA time zone, what happens after downtime — and the next five runs, asked of
 * `POST /api/v1/schedules/preview` as you type (its 400 names what is wrong with the cron or zone).
 */
import { useEffect, useId, useState } from 'react';
import { type Api, ApiError, errorText } from '../../api.ts';
import type { Config } from '../document.ts';
import { SelectField, TextField } from './fields.tsx';

const EXAMPLES = [
  { cron: '*/5 * * * *', label: 'every 5 minutes' },
  { cron: '0 * * * *', label: 'every hour' },
  { cron: '0 9 * * 1-5', label: 'weekdays at 09:00' },
  { cron: '0 0 1 * *', label: 'the 1st of each month' },
  { cron: '*/30 * * * * *', label: 'every 30 seconds' },
];

type Preview = { next_runs: string[] } | { error: string; field?: string } | null;

/** The zones this browser knows, for the time zone field's suggestions. */
function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Europe/Oslo', 'Europe/London', 'America/New_York'];
  }
}

function formatIn(iso: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}

export function SchedulePanel(props: { api: Api; config: Config; onChange: (c: Config) => void }) {
  const { api, config, onChange } = props;
  const cron = typeof config.cron === 'string' ? config.cron : '';
  const timezone = typeof config.timezone === 'string' && config.timezone ? config.timezone : 'UTC';
  const catchUp = config.catch_up === 'none' ? 'none' : 'one';
  const [preview, setPreview] = useState<Preview>(null);
  const listId = useId();

  useEffect(() => {
    if (!cron.trim()) {
      setPreview({ error: 'Type a cron expression, such as */5 * * * *.', field: 'cron' });
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api<{ next_runs: string[] }>('POST', '/schedules/preview', { cron, timezone })
        .then((r) => live && setPreview({ next_runs: r.next_runs }))
        .catch((err) => {
          if (!live) return;
          const first =
            err instanceof ApiError
              ? (err.body.errors as { field: string; msg: string }[] | undefined)?.[0]
              : undefined;
          setPreview({ error: first ? first.msg : errorText(err), field: first?.field });
        });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, cron, timezone]);

  const errorOf = (field: string) =>
    preview && 'error' in preview && preview.field === field ? preview.error : undefined;

  return (
    <div className="schedule-panel">
      <TextField
        label="Cron"
        value={cron}
        mono
        placeholder="*/5 * * * *"
        onChange={(v) => onChange({ ...config, cron: v })}
        error={errorOf('cron')}
        help="Five fields (minute hour day month weekday), or six with seconds first."
      />
      <fieldset className="schedule-examples" aria-label="Cron examples">
        {EXAMPLES.map((e) => (
          <button
            key={e.cron}
            type="button"
            className="button button-small"
            title={e.cron}
            onClick={() => onChange({ ...config, cron: e.cron })}
          >
            {e.label}
          </button>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${listId}-tz`}>Time zone</label>
        <input
          id={`${listId}-tz`}
          className="mono"
          list={listId}
          value={typeof config.timezone === 'string' ? config.timezone : ''}
          placeholder="UTC"
          spellCheck={false}
          aria-invalid={errorOf('timezone') ? true : undefined}
          onChange={(e) => onChange({ ...config, timezone: e.target.value })}
        />
        <datalist id={listId}>
          {timeZones().map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        {errorOf('timezone') && <small className="field-error">{errorOf('timezone')}</small>}
        <small className="muted">
          An IANA time zone; the cron's hours are read in it (summer time included).
        </small>
      </div>
      <SelectField
        label="After downtime"
        value={catchUp}
        options={[
          { value: 'one', label: 'Run the latest missed tick once' },
          { value: 'none', label: 'Skip missed ticks' },
        ]}
        onChange={(v) => onChange({ ...config, catch_up: v })}
        help="When Hookflow was not running at a tick. A disabled flow has no ticks, and enabling it does not catch up."
      />
      <section aria-label="Next runs" className="next-runs">
        <h3>
          Next runs <span className="muted h3-note">in {timezone}</span>
        </h3>
        {preview === null && <p className="muted">Working them out…</p>}
        {preview && 'error' in preview && !preview.field && <p className="field-error">{preview.error}</p>}
        {preview && 'error' in preview && preview.field && (
          <p className="muted">None until the {preview.field === 'cron' ? 'cron' : 'time zone'} is valid.</p>
        )}
        {preview && 'next_runs' in preview && (
          <ol>
            {preview.next_runs.map((t) => (
              <li key={t}>
                <time dateTime={t}>{formatIn(t, timezone)}</time>
              </li>
            ))}
          </ol>
        )}
        <p className="muted">
          Templates read a run's tick as <code>{'${Schedule.time}'}</code> and{' '}
          <code>{'${Schedule.cron}'}</code>.
        </p>
      </section>
    </div>
  );
}
