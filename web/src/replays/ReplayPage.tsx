/**
 * `/replays/<id>`: a shadow replay's report (GET /replays/:id, read every second while it runs) —
 * its progress, how many runs came out the same, different or failed, and each run with the
 * different and failed ones first, opening to its differences (path, original value, replay value)
 * and linking to the original run and to its replay run.
 */
import '../runs/runs.css';
import '../versions/versions.css';
import { useEffect, useMemo, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { formatTimeExact } from '../format.ts';
import { Link } from '../router.tsx';
import { createNameCache } from '../runs/model.ts';
import { useNames } from '../runs/parts.tsx';
import { Value } from '../versions/DiffView.tsx';
import { type Replay, type ReplayItem, type ReplayItemStatus, replayTarget } from '../versions/model.ts';

const POLL_MS = 1000;

/** Report order: what needs a look first. */
const ORDER: Record<ReplayItemStatus, number> = { different: 0, failed: 1, running: 2, pending: 3, same: 4 };

export function ReplayPage({ api, id }: { api: Api; id: string }) {
  const [replay, setReplay] = useState<Replay | null>(null);
  const [error, setError] = useState<string | null>(null);
  const flowName = useMemo(() => createNameCache(api, 'flows'), [api]);
  const names = useNames(flowName, replay ? [replay.flow_id] : []);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const r = await api<Replay>('GET', `/replays/${encodeURIComponent(id)}`);
        if (!live) return;
        setReplay(r);
        setError(null);
        if (r.status === 'running') timer = setTimeout(tick, POLL_MS);
      } catch (err) {
        if (live) setError(errorText(err));
      }
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, id]);

  const items = useMemo(
    () =>
      (replay?.items ?? [])
        .map((item, i) => ({ item, i }))
        .sort((a, b) => ORDER[a.item.status] - ORDER[b.item.status] || a.i - b.i)
        .map((x) => x.item),
    [replay],
  );

  if (error && !replay)
    return (
      <section className="empty">
        <h1>Replay not available</h1>
        <p className="muted">{error}</p>
        <Link to="/flows" className="button">
          Back to Flows
        </Link>
      </section>
    );
  if (!replay) return <p className="muted">Loading the replay…</p>;
  const flowLabel = names.get(replay.flow_id) ?? replay.flow_id;
  const pct = replay.total ? Math.round((replay.done / replay.total) * 100) : 100;

  return (
    <section aria-labelledby="replay-title" className="replay-report">
      <p className="breadcrumb">
        <Link to={`/flows/${encodeURIComponent(replay.flow_id)}`}>← {flowLabel}</Link>
      </p>
      <header className="page-header">
        <div>
          <h1 id="replay-title">
            Replay <code className="run-title-id">{replay.id}</code>
          </h1>
          <p className="muted">
            {replay.total} run{replay.total === 1 ? '' : 's'} of {flowLabel} against {replayTarget(replay)} ·
            started {formatTimeExact(replay.created_at)}
            {replay.finished_at ? ` · finished ${formatTimeExact(replay.finished_at)}` : ''}
          </p>
        </div>
        <span className={`badge badge-${replay.status === 'running' ? 'running' : 'succeeded'}`}>
          {replay.status}
        </span>
      </header>

      <div className="panel replay-summary">
        <div
          className="progress"
          role="progressbar"
          aria-label="Replay progress"
          aria-valuemin={0}
          aria-valuemax={replay.total}
          aria-valuenow={replay.done}
        >
          <div className="progress-bar" style={{ width: `${pct}%` }} />
        </div>
        <p className="muted">
          {replay.done} of {replay.total} done{replay.status === 'running' ? ' · following…' : ''}
        </p>
        <dl className="facts replay-counts">
          <div className="count-same">
            <dt>Same</dt>
            <dd data-testid="count-same">{replay.same}</dd>
          </div>
          <div className="count-different">
            <dt>Different</dt>
            <dd data-testid="count-different">{replay.different}</dd>
          </div>
          <div className="count-failed">
            <dt>Failed</dt>
            <dd data-testid="count-failed">{replay.failed}</dd>
          </div>
        </dl>
      </div>

      <section className="run-section" aria-labelledby="replay-items-title">
        <h2 id="replay-items-title">Runs</h2>
        {items.length === 0 ? (
          <p className="muted">No run in this replay.</p>
        ) : (
          <ul className="replay-items" aria-label="Replayed runs">
            {items.map((item) => (
              <ReplayItemRow key={item.run_id} item={item} />
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}

function ReplayItemRow({ item }: { item: ReplayItem }) {
  const open = item.status === 'different' || item.status === 'failed';
  return (
    <li className={`replay-item replay-item-${item.status}`} data-run-id={item.run_id}>
      <details open={open && item.differences.length <= 20}>
        <summary>
          <span className={`badge replay-badge-${item.status}`}>{item.status}</span>{' '}
          <code>{item.run_id}</code>
          <span className="muted">
            {' '}
            {item.original?.status ?? '…'}
            {item.replay ? ` → ${item.replay.status}` : ''}
            {item.differences.length > 0
              ? ` · ${item.differences.length} difference${item.differences.length === 1 ? '' : 's'}`
              : ''}
          </span>
        </summary>
        <div className="replay-item-body">
          <p className="replay-links">
            <Link to={`/runs/${encodeURIComponent(item.run_id)}`} className="run-link">
              Original run
            </Link>
            {item.replay_run_id && (
              <>
                {' · '}
                <Link to={`/runs/${encodeURIComponent(item.replay_run_id)}`} className="run-link">
                  Replay run
                </Link>
              </>
            )}
          </p>
          {item.replay?.error && <div className="run-error">{item.replay.error}</div>}
          {item.differences.length > 0 ? (
            <table
              className="table table-compact replay-differences"
              aria-label={`Differences of ${item.run_id}`}
            >
              <thead>
                <tr>
                  <th>Path</th>
                  <th>Original</th>
                  <th>Replay</th>
                </tr>
              </thead>
              <tbody>
                {item.differences.map((d) => (
                  <tr key={d.path}>
                    <td>
                      <code>{d.path}</code>
                    </td>
                    <td>
                      <Value value={d.original} className="diff-old" />
                    </td>
                    <td>
                      <Value value={d.replay} className="diff-new" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">
              {item.status === 'same'
                ? 'Same status, variables and response as the original.'
                : item.status === 'pending' || item.status === 'running'
                  ? 'Not compared yet.'
                  : 'No differences recorded.'}
            </p>
          )}
        </div>
      </details>
    </li>
  );
}
