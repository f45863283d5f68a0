/**
 * The canvas's **Replay** (docs/api.md §3.14 `POST /flows/:id/replays`): what to run the stored
 * requests against (the draft, or a version) and which of them (the last N runs, or those of a
 * time range). A started replay opens its report; a refusal (`no_runs`, `too_many_replays`) is
 * shown here. Below the form, the flow's past replays, each linked to its report.
 */
import { useEffect, useId, useState } from 'react';
import { type Api, errorText, type Page } from '../api.ts';
import { Dialog } from '../Dialog.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from '../runs/parts.tsx';
import { type ReplaySummary, replayTarget, type VersionSummary } from '../versions/model.ts';

export const MAX_REPLAY_RUNS = 1000;

export function ReplayDialog(props: {
  api: Api;
  flowId: string;
  open: boolean;
  liveVersion: number;
  draft: { revision: number } | null;
  /** Unsaved changes: a replay of the draft runs the saved draft. */
  dirty: boolean;
  saving: boolean;
  onSave: () => void;
  onClose: () => void;
  onStarted: (replayId: string) => void;
}) {
  const { api, flowId, open } = props;
  const flow = encodeURIComponent(flowId);
  const [target, setTarget] = useState<string>('draft');
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [past, setPast] = useState<ReplaySummary[] | null>(null);
  const [mode, setMode] = useState<'last' | 'range'>('last');
  const [limit, setLimit] = useState('100');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const ids = { target: useId(), limit: useId(), since: useId(), until: useId() };

  const hasDraft = props.draft !== null;
  useEffect(() => {
    if (!open) return;
    let live = true;
    setRefusal(null);
    setTarget(hasDraft ? 'draft' : String(props.liveVersion));
    api<Page<VersionSummary>>('GET', `/flows/${flow}/versions?limit=100`)
      .then((p) => live && setVersions(p.data))
      .catch(() => live && setVersions([]));
    api<{ data: ReplaySummary[] }>('GET', `/flows/${flow}/replays`)
      .then((p) => live && setPast(p.data))
      .catch(() => live && setPast([]));
    return () => {
      live = false;
    };
  }, [open, api, flow, hasDraft, props.liveVersion]);

  const n = Number(limit);
  const limitError =
    mode === 'last' && !(Number.isInteger(n) && n >= 1 && n <= MAX_REPLAY_RUNS)
      ? `A number of runs from 1 to ${MAX_REPLAY_RUNS}.`
      : null;
  const rangeError =
    mode === 'range' && !since && !until
      ? 'Give a start, an end or both.'
      : mode === 'range' && since && until && since >= until
        ? 'The start must be before the end.'
        : null;

  const start = async () => {
    if (limitError || rangeError) return;
    setBusy(true);
    setRefusal(null);
    try {
      const body =
        mode === 'last'
          ? { limit: n }
          : {
              ...(since ? { since: new Date(since).toISOString() } : {}),
              ...(until ? { until: new Date(until).toISOString() } : {}),
              limit: MAX_REPLAY_RUNS,
            };
      const r = await api<{ id: string }>('POST', `/flows/${flow}/replays`, {
        version: target === 'draft' ? 'draft' : Number(target),
        ...body,
      });
      props.onStarted(r.id);
    } catch (err) {
      setRefusal(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Replay traffic"
      open={open}
      onClose={props.onClose}
      onSubmit={start}
      submitLabel={busy ? 'Starting…' : 'Start replay'}
      busy={busy || props.saving || !!limitError || !!rangeError}
    >
      <div className="replay-form">
        <p className="muted">
          Runs stored requests of this flow again against another version and compares each result with the
          original run. Nothing leaves: HTTP calls get the original's recorded answers, events are not
          delivered and no e-mail is sent.
        </p>
        <div className="field">
          <label htmlFor={ids.target}>Replay against</label>
          <select id={ids.target} value={target} onChange={(e) => setTarget(e.target.value)}>
            {hasDraft && <option value="draft">The draft (revision {props.draft?.revision})</option>}
            {versions.map((v) => (
              <option key={v.version} value={String(v.version)}>
                Version {v.version}
                {v.version === props.liveVersion ? ' (live)' : ''}
                {v.note ? ` — ${v.note}` : ''}
              </option>
            ))}
            {versions.length === 0 && (
              <option value={String(props.liveVersion)}>Version {props.liveVersion} (live)</option>
            )}
          </select>
        </div>
        {target === 'draft' && props.dirty && (
          <p className="notice" role="note">
            The canvas has unsaved changes: the replay runs the <strong>saved</strong> draft.{' '}
            <button
              type="button"
              className="button button-small"
              onClick={props.onSave}
              disabled={props.saving}
            >
              {props.saving ? 'Saving…' : 'Save draft first'}
            </button>
          </p>
        )}
        <fieldset className="replay-traffic">
          <legend>Traffic</legend>
          <label className="field-inline">
            <input
              type="radio"
              name="replay-mode"
              checked={mode === 'last'}
              onChange={() => setMode('last')}
            />
            <span>The last runs</span>
          </label>
          <label className="field-inline">
            <input
              type="radio"
              name="replay-mode"
              checked={mode === 'range'}
              onChange={() => setMode('range')}
            />
            <span>The runs of a time range</span>
          </label>
          {mode === 'last' ? (
            <div className="field">
              <label htmlFor={ids.limit}>Number of runs (at most {MAX_REPLAY_RUNS})</label>
              <input
                id={ids.limit}
                type="number"
                min={1}
                max={MAX_REPLAY_RUNS}
                value={limit}
                onChange={(e) => setLimit(e.target.value)}
                aria-invalid={limitError !== null}
              />
              {limitError && <span className="form-error">{limitError}</span>}
            </div>
          ) : (
            <div className="replay-range">
              <div className="field">
                <label htmlFor={ids.since}>From</label>
                <input
                  id={ids.since}
                  type="datetime-local"
                  value={since}
                  onChange={(e) => setSince(e.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor={ids.until}>Until</label>
                <input
                  id={ids.until}
                  type="datetime-local"
                  value={until}
                  onChange={(e) => setUntil(e.target.value)}
                />
              </div>
              {rangeError && <span className="form-error">{rangeError}</span>}
            </div>
          )}
        </fieldset>
        {refusal && (
          <p className="form-error" role="alert">
            Not started: {refusal}
          </p>
        )}
        <section className="replay-past" aria-label="Past replays">
          <h3>Past replays</h3>
          {past === null ? (
            <p className="muted">Loading…</p>
          ) : past.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <ul>
              {past.slice(0, 10).map((r) => (
                <li key={r.id}>
                  <Link to={`/replays/${encodeURIComponent(r.id)}`} className="run-link">
                    {formatTime(r.created_at)}
                  </Link>{' '}
                  <span className="muted">against {replayTarget(r)}</span>{' '}
                  {r.status === 'running' ? (
                    <StatusBadge status="running" />
                  ) : (
                    <span className="muted">
                      {r.same} same · {r.different} different · {r.failed} failed
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </Dialog>
  );
}
