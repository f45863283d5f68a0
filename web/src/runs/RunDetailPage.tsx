/**
 * One run: its status and error, the request that triggered it, each step in the order it ran with
 * its input, output and error (and, for a step that failed at least once, its attempts, when it
 * retries next, and whether the flow handled its failure; for a loop its items, each with its body's
 * steps shown the same way), the variables it ended with, and the outbound webhooks it caused.
 * While the run is queued or running the screen follows it (a read a second). Rerun starts a new run
 * with the same request; Cancel (asked first) stops a run that has not ended.
 */
import './runs.css';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { copyText } from '../clipboard.ts';
import { Dialog } from '../Dialog.tsx';
import { formatClock, formatDuration, formatTimeExact } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { useToast } from '../toasts.tsx';
import { createNameCache, isActive, type LoopIteration, type NodeRecord, type Run } from './model.ts';
import { JsonBlock, RunModeBadge, StatusBadge, useNames } from './parts.tsx';
import { RunDeliveries } from './RunDeliveries.tsx';

const POLL_MS = 1000;

const span = (from?: string | null, to?: string | null) =>
  from && to ? formatDuration(Date.parse(to) - Date.parse(from)) : null;

export function RunDetailPage({ api, id }: { api: Api; id: string }) {
  const toast = useToast();
  const [run, setRun] = useState<Run | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const [rerunBusy, setRerunBusy] = useState(false);
  const [cancelOpen, setCancelOpen] = useState(false);
  const [cancelBusy, setCancelBusy] = useState(false);
  const flowName = useMemo(() => createNameCache(api, 'flows'), [api]);
  const names = useNames(flowName, run ? [run.flow_id] : []);
  // The id the shown run belongs to: answers for an earlier id (before a rerun) are dropped.
  const shownId = useRef(id);

  // Reads the run, and again every second while it has not ended.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `reloads` is the "Try again" trigger
  useEffect(() => {
    shownId.current = id;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const tick = async () => {
      try {
        const r = await api<Run>('GET', `/runs/${encodeURIComponent(id)}`);
        if (!live) return;
        setRun(r);
        setLoadError(null);
        if (isActive(r.status)) timer = setTimeout(tick, POLL_MS);
      } catch (err) {
        if (live) setLoadError(errorText(err));
      }
    };
    setRun((r) => (r?.id === id ? r : null));
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, id, reloads]);

  const rerun = async () => {
    setRerunBusy(true);
    try {
      const created = await api<Run>('POST', `/runs/${encodeURIComponent(id)}/rerun`);
      toast.success(`Rerun started: ${created.id}`);
      navigate(`/runs/${encodeURIComponent(created.id)}`);
    } catch (err) {
      toast.error(`Could not rerun ${id}: ${errorText(err)}`);
    } finally {
      setRerunBusy(false);
    }
  };

  const cancel = async () => {
    setCancelBusy(true);
    try {
      const r = await api<Run>('POST', `/runs/${encodeURIComponent(id)}/cancel`);
      if (shownId.current === id) setRun(r);
      toast.success(`Run ${id} cancelled`);
      setCancelOpen(false);
    } catch (err) {
      toast.error(`Could not cancel ${id}: ${errorText(err)}`);
      setCancelOpen(false);
      setReloads((n) => n + 1);
    } finally {
      setCancelBusy(false);
    }
  };

  const retry = useCallback(() => setReloads((n) => n + 1), []);
  const current = run?.id === id ? run : null;
  const flowLabel = current ? (names.get(current.flow_id) ?? current.flow_id) : '';

  return (
    <section aria-labelledby="run-title" className="run-detail">
      <p className="breadcrumb">
        <Link to="/runs">← All runs</Link>
      </p>
      <header className="page-header">
        <div>
          <h1 id="run-title">
            Run <code className="run-title-id">{id}</code>
            {current && <RunModeBadge run={current} />}
          </h1>
          {current && (
            <p className="muted">
              Flow{' '}
              <Link to={`/runs?flow_id=${encodeURIComponent(current.flow_id)}`} className="run-link">
                {flowLabel}
              </Link>{' '}
              · triggered by <code>{current.trigger_node_id}</code>
            </p>
          )}
        </div>
        {current && (
          <div className="header-actions">
            {isActive(current.status) && (
              <button
                type="button"
                className="button button-danger-quiet"
                onClick={() => setCancelOpen(true)}
              >
                Cancel run
              </button>
            )}
            <button type="button" className="button button-primary" onClick={rerun} disabled={rerunBusy}>
              {rerunBusy ? 'Starting…' : 'Rerun'}
            </button>
          </div>
        )}
      </header>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load the run: {loadError}</span>
          <button type="button" className="button" onClick={retry}>
            Try again
          </button>
        </div>
      )}

      {!current && !loadError && <p className="muted">Loading the run…</p>}

      {current && (
        <>
          <div className="panel run-summary">
            <dl className="facts">
              <div>
                <dt>Status</dt>
                <dd>
                  <StatusBadge status={current.status} />
                  {isActive(current.status) && <span className="live muted"> following…</span>}
                </dd>
              </div>
              <div>
                <dt>Created</dt>
                <dd>{formatTimeExact(current.created_at)}</dd>
              </div>
              <div>
                <dt>Started</dt>
                <dd>{current.started_at ? formatTimeExact(current.started_at) : '—'}</dd>
              </div>
              <div>
                <dt>Finished</dt>
                <dd>{current.finished_at ? formatTimeExact(current.finished_at) : '—'}</dd>
              </div>
              <div>
                <dt>Duration</dt>
                <dd>{span(current.started_at ?? current.created_at, current.finished_at) ?? '—'}</dd>
              </div>
              {(current.flow_version != null || current.draft_revision != null) && (
                <div>
                  <dt>Version</dt>
                  <dd>
                    {current.flow_version != null
                      ? `version ${current.flow_version}`
                      : `draft rev ${current.draft_revision}`}
                  </dd>
                </div>
              )}
              {current.replay_id && (
                <div>
                  <dt>Replay</dt>
                  <dd>
                    <Link to={`/replays/${encodeURIComponent(current.replay_id)}`} className="run-link">
                      <code>{current.replay_id}</code>
                    </Link>
                  </dd>
                </div>
              )}
              {current.replay_of && (
                <div>
                  <dt>Replay of</dt>
                  <dd>
                    <Link to={`/runs/${encodeURIComponent(current.replay_of)}`} className="run-link">
                      <code>{current.replay_of}</code>
                    </Link>
                  </dd>
                </div>
              )}
              {current.rerun_of && (
                <div>
                  <dt>Rerun of</dt>
                  <dd>
                    <Link to={`/runs/${encodeURIComponent(current.rerun_of)}`} className="run-link">
                      <code>{current.rerun_of}</code>
                    </Link>
                  </dd>
                </div>
              )}
              {current.parent_run_id && (
                <div>
                  <dt>Sub-flow run of</dt>
                  <dd>
                    <Link to={`/runs/${encodeURIComponent(current.parent_run_id)}`} className="run-link">
                      <code>{current.parent_run_id}</code>
                    </Link>
                  </dd>
                </div>
              )}
              {current.children && current.children.length > 0 && (
                <div>
                  <dt>Sub-flow runs</dt>
                  <dd>
                    <ul className="run-children" aria-label="Sub-flow runs">
                      {current.children.slice(0, 50).map((c) => (
                        <li key={c.id}>
                          <Link to={`/runs/${encodeURIComponent(c.id)}`} className="run-link">
                            <code>{c.id}</code>
                          </Link>{' '}
                          <StatusBadge status={c.status} />
                        </li>
                      ))}
                      {current.children.length > 50 && (
                        <li className="muted">and {current.children.length - 50} more</li>
                      )}
                    </ul>
                  </dd>
                </div>
              )}
              {current.error_of_run_id && (
                <div>
                  <dt>Error run of</dt>
                  <dd>
                    <Link to={`/runs/${encodeURIComponent(current.error_of_run_id)}`} className="run-link">
                      <code>{current.error_of_run_id}</code>
                    </Link>
                  </dd>
                </div>
              )}
              {current.error_flow && (
                <div>
                  <dt>Error run</dt>
                  <dd>
                    {current.error_flow.run_id ? (
                      <Link
                        to={`/runs/${encodeURIComponent(current.error_flow.run_id)}`}
                        className="run-link"
                      >
                        <code>{current.error_flow.run_id}</code>
                      </Link>
                    ) : (
                      <span className="muted">None: {current.error_flow.skipped}</span>
                    )}
                  </dd>
                </div>
              )}
              {current.attempts > 1 && (
                <div>
                  <dt>Worker attempts</dt>
                  <dd>{current.attempts}</dd>
                </div>
              )}
            </dl>
            {current.error && (
              <div className="run-error" role="note" aria-label="Run error">
                <strong>Error</strong>
                <span>{current.error}</span>
              </div>
            )}
          </div>

          <TriggerSection run={current} />

          <section className="run-section" aria-labelledby="steps-title">
            <h2 id="steps-title">Steps</h2>
            {current.nodes.length === 0 ? (
              <p className="muted">{isActive(current.status) ? 'No step has run yet.' : 'No step ran.'}</p>
            ) : (
              <ol className="nodes">
                {current.nodes.map((n, i) => (
                  <NodeCard key={n.id} node={n} index={i + 1} />
                ))}
              </ol>
            )}
          </section>

          <section className="run-section" aria-labelledby="vars-title">
            <h2 id="vars-title">Variables</h2>
            <JsonBlock value={current.vars} label="Variables" empty="The run set no variables." />
            {Object.keys(current.flow_key ?? {}).length > 0 && (
              <>
                <h3>Flow keys</h3>
                <JsonBlock value={current.flow_key} label="Flow keys" />
              </>
            )}
          </section>

          {current.response && (
            <section className="run-section" aria-labelledby="response-title">
              <h2 id="response-title">Response sent to the caller</h2>
              <p className="muted">
                Status <code>{current.response.status}</code>
              </p>
              <JsonBlock value={current.response.headers} label="Response headers" empty="No headers." />
              <JsonBlock value={current.response.body} label="Response body" empty="Empty body." />
            </section>
          )}

          <RunDeliveries api={api} runId={current.id} runActive={isActive(current.status)} />
        </>
      )}

      <Dialog
        title="Cancel run"
        open={cancelOpen}
        onClose={() => setCancelOpen(false)}
        onSubmit={cancel}
        submitLabel={cancelBusy ? 'Cancelling…' : 'Cancel run'}
        danger
        busy={cancelBusy}
      >
        <p>
          Stop <code>{id}</code>? Steps that have run stay done; no further step runs. Rerun starts it again
          from the same request.
        </p>
      </Dialog>
    </section>
  );
}

function TriggerSection({ run }: { run: Run }) {
  const t = run.trigger ?? {};
  if (t.method === 'SCHEDULE') return <ScheduleTriggerSection trigger={t} />;
  return (
    <section className="run-section" aria-labelledby="trigger-title">
      <h2 id="trigger-title">Trigger request</h2>
      <p className="request-line">
        <code className="method">{t.method ?? '—'}</code> <code>{t.path ?? '—'}</code>
        {typeof t.received_at === 'string' && (
          <span className="muted"> · received {formatTimeExact(t.received_at)}</span>
        )}
        {typeof t.ip === 'string' && <span className="muted"> · from {t.ip}</span>}
        {t.manual === true && (
          <span className="muted">
            {' '}
            · started by hand
            {typeof (t.api_key as { name?: unknown } | undefined)?.name === 'string' &&
              ` with the API key “${(t.api_key as { name: string }).name}”`}
          </span>
        )}
      </p>
      <div className="io-grid">
        <div>
          <h3>Headers</h3>
          <JsonBlock value={t.headers} label="Trigger headers" empty="No headers." />
        </div>
        <div>
          <h3>Query</h3>
          <JsonBlock value={t.query} label="Trigger query" empty="No query parameters." />
        </div>
      </div>
      <h3>
        Body
        {typeof t.content_type === 'string' && <span className="muted h3-note"> {t.content_type}</span>}
      </h3>
      <JsonBlock value={t.body} label="Trigger body" empty="Empty body." />
    </section>
  );
}

/** A run a schedule's tick started (docs/api.md §4.8): the tick's time, its cron and time zone. */
function ScheduleTriggerSection({ trigger }: { trigger: Record<string, unknown> }) {
  const tick = (trigger.body ?? {}) as { time?: unknown; cron?: unknown; timezone?: unknown };
  return (
    <section className="run-section" aria-labelledby="trigger-title">
      <h2 id="trigger-title">Trigger: schedule</h2>
      <p className="request-line">
        <code className="method">SCHEDULE</code>{' '}
        {typeof tick.time === 'string' && <span>tick of {formatTimeExact(tick.time)}</span>}
        {typeof tick.cron === 'string' && (
          <span className="muted">
            {' '}
            · <code>{tick.cron}</code>
            {typeof tick.timezone === 'string' && ` in ${tick.timezone}`}
          </span>
        )}
      </p>
      <h3>Tick</h3>
      <JsonBlock value={trigger.body} label="Trigger body" empty="No tick." />
    </section>
  );
}

/** What the flow did with a failure it handled (`on_error`). */
const HANDLED: Record<NonNullable<NodeRecord['handled']>, { tag: string; sentence: string }> = {
  continue: {
    tag: 'continued',
    sentence: 'The flow handled this failure: the run went on along the normal path.',
  },
  branch: {
    tag: 'took the error path',
    sentence: 'The flow handled this failure: the run took the error path.',
  },
  timeout: {
    tag: 'took the timeout path',
    sentence: 'No call came in time: the run took the timeout path.',
  },
};

/** A waiting wait node's resume URL (its `input.resume_url`), or null. */
function resumeUrlOf(node: NodeRecord): string | null {
  if (node.type !== 'wait' || node.status !== 'waiting') return null;
  const url = (node.input as { resume_url?: unknown } | undefined)?.resume_url;
  return typeof url === 'string' ? url : null;
}

/** Where a waiting run is called to go on, with a copy button. */
function ResumeUrl({ node, url }: { node: NodeRecord; url: string }) {
  const toast = useToast();
  const until = (node.output as { until?: unknown } | undefined)?.until;
  return (
    <div className="node-resume" role="note" aria-label={`${node.id} resume URL`}>
      <strong>Waiting for a call</strong>
      {typeof until === 'string' && <span className="muted"> until {moment(until)}</span>}
      <div className="node-resume-url">
        <code>{url}</code>
        <button
          type="button"
          className="button button-small"
          onClick={async () => {
            if (await copyText(url)) toast.success('Copied the resume URL');
            else toast.error('The browser did not allow copying; select the URL and copy it by hand');
          }}
        >
          Copy
        </button>
      </div>
    </div>
  );
}

/** A moment of today as its time of day ("2:05:30 PM"), another day's with its date. */
function moment(iso: string): string {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? formatClock(iso) : formatTimeExact(iso);
}

/** When a node waiting for its next attempt retries (`output.retry_at`), or null. */
function retryAt(node: NodeRecord): string | null {
  if (node.status !== 'waiting' || node.wait !== 'retry') return null;
  const at = (node.output as { retry_at?: unknown } | undefined)?.retry_at;
  return typeof at === 'string' ? at : null;
}

function NodeCard({ node, index }: { node: NodeRecord; index: number }) {
  const took = span(node.started_at, node.finished_at);
  const handled = node.status === 'failed' && node.handled ? HANDLED[node.handled] : undefined;
  const nextAttempt = retryAt(node);
  const resumeUrl = resumeUrlOf(node);
  return (
    <li className={`node node-${node.status}${handled ? ' node-handled' : ''}`} data-node-id={node.id}>
      <details open={node.status !== 'skipped'}>
        <summary>
          <span className="node-index">{index}</span>
          <strong className="node-id">{node.id}</strong>
          <span className="node-type">{node.type}</span>
          <StatusBadge status={node.status} />
          {handled && <span className="node-handled-note">— handled: {handled.tag}</span>}
          {nextAttempt && <span className="node-retry-note">Waiting to retry at {moment(nextAttempt)}</span>}
          <span className="node-times muted">
            {node.started_at ? formatTimeExact(node.started_at) : 'not started'}
            {took && ` · ${took}`}
          </span>
        </summary>
        <div className="node-body">
          {node.error && (
            <div
              className={`run-error${handled ? ' run-error-handled' : ''}`}
              role="note"
              aria-label={`${node.id} error`}
            >
              <strong>{handled ? 'Handled error' : nextAttempt ? 'Last attempt failed' : 'Error'}</strong>
              <span>{node.error}</span>
            </div>
          )}
          {handled && <p className="muted node-handled-sentence">{handled.sentence}</p>}
          {resumeUrl && <ResumeUrl node={node} url={resumeUrl} />}
          {node.attempts && node.attempts.length > 0 && <Attempts node={node} />}
          {node.iterations && <Iterations node={node} iterations={node.iterations} />}
          {node.logs && node.logs.length > 0 && (
            <>
              <h3>Console</h3>
              <pre className="node-logs" role="log" aria-label={`${node.id} console`}>
                {node.logs.join('\n')}
              </pre>
            </>
          )}
          {node.status === 'skipped' ? (
            <p className="muted">Not run: the flow took another branch.</p>
          ) : (
            <div className="io-grid">
              <div>
                <h3>Input</h3>
                <JsonBlock value={node.input} label={`${node.id} input`} empty="No input." />
              </div>
              <div>
                <h3>Output</h3>
                <JsonBlock
                  value={node.output}
                  label={`${node.id} output`}
                  empty={node.status === 'waiting' ? 'Waiting…' : 'No output.'}
                />
              </div>
            </div>
          )}
        </div>
      </details>
    </li>
  );
}

/** How many of a loop's items are listed at first, and how many more each "Show more" adds. */
const ITERATIONS_PAGE = 100;

/** A loop's `output.count` and `output.failed`, when it has them. */
function loopCounts(node: NodeRecord): { count?: number; failed?: number } {
  const o = (node.output ?? {}) as { count?: unknown; failed?: unknown };
  return {
    count: typeof o.count === 'number' ? o.count : undefined,
    failed: typeof o.failed === 'number' ? o.failed : undefined,
  };
}

/** A loop's items: how many and how many failed, then each item (the first 100, more on request). */
function Iterations({ node, iterations }: { node: NodeRecord; iterations: LoopIteration[] }) {
  const [shown, setShown] = useState(ITERATIONS_PAGE);
  const { count, failed } = loopCounts(node);
  const total = count ?? iterations.length;
  const failedCount = failed ?? iterations.filter((i) => i.status === 'failed').length;
  const rest = iterations.length - shown;
  return (
    <>
      <h3>Items</h3>
      <p className="muted iterations-counts" role="note" aria-label={`${node.id} item counts`}>
        {total} item{total === 1 ? '' : 's'} · {failedCount} failed
        {iterations.length < total && ` · ${iterations.length} started`}
      </p>
      {iterations.length > 0 && (
        <ol className="iterations" aria-label={`${node.id} items`}>
          {iterations.slice(0, shown).map((it) => (
            <IterationRow key={it.index} loopId={node.id} iteration={it} />
          ))}
        </ol>
      )}
      {rest > 0 && (
        <button
          type="button"
          className="button button-small"
          onClick={() => setShown((n) => n + ITERATIONS_PAGE)}
        >
          Show more ({Math.min(rest, ITERATIONS_PAGE)} of {rest} left)
        </button>
      )}
    </>
  );
}

/** One item of a loop; opened, its body's steps as the run's own steps are shown. */
function IterationRow({ loopId, iteration }: { loopId: string; iteration: LoopIteration }) {
  const [open, setOpen] = useState(false);
  const took = span(iteration.started_at, iteration.finished_at);
  return (
    <li
      className={`iteration iteration-${iteration.status}`}
      aria-label={`${loopId} item ${iteration.index}`}
    >
      <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          <span className="iteration-index">Item {iteration.index}</span>
          <StatusBadge status={iteration.status} />
          {took && <span className="muted">{took}</span>}
          {iteration.error && <span className="iteration-error">{iteration.error}</span>}
        </summary>
        {open &&
          (iteration.nodes.length === 0 ? (
            <p className="muted">No step of the body has run for this item yet.</p>
          ) : (
            <ol className="nodes iteration-nodes">
              {iteration.nodes.map((n, i) => (
                <NodeCard key={n.id} node={n} index={i + 1} />
              ))}
            </ol>
          ))}
      </details>
    </li>
  );
}

/** The attempts of a node that failed at least once, in order: failed with its error, or succeeded. */
function Attempts({ node }: { node: NodeRecord }) {
  return (
    <>
      <h3>Attempts</h3>
      <ol className="node-attempts" aria-label={`${node.id} attempts`}>
        {(node.attempts ?? []).map((a, i) => {
          const took = span(a.started_at, a.finished_at);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: an attempt is its place in the list
            <li key={i} className={a.error === null ? 'attempt-succeeded' : 'attempt-failed'}>
              <strong>Attempt {i + 1}</strong> —{' '}
              {a.error === null ? (
                'succeeded'
              ) : (
                <>
                  failed: <span className="attempt-error-text">{a.error}</span>
                </>
              )}{' '}
              — <span className="muted">{moment(a.started_at)}</span>
              {took && <span className="muted"> · {took}</span>}
            </li>
          );
        })}
      </ol>
    </>
  );
}
