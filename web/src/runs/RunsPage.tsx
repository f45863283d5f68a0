/**
 * Runs: every run of the tenant, newest first, narrowed by status and (from a link such as
 * `/runs?flow_id=flw_…`) by flow; "Test runs" lists the runs of test URLs instead (the list
 * leaves test and replay runs out). The filters live in the page URL, so a filtered list can be
 * shared and comes back after a look at a run.
 */
import './runs.css';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type Api, errorText, type Page } from '../api.ts';
import { formatDuration, formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { createNameCache, isActive, RUN_STATUSES, type RunStatus, type RunSummary } from './model.ts';
import { RunModeBadge, StatusBadge, useNames } from './parts.tsx';

const PAGE_SIZE = 50;

type Filters = { status: RunStatus | ''; flowId: string; test: boolean };

function filtersFromUrl(): Filters {
  const q = new URLSearchParams(location.search);
  const status = q.get('status') ?? '';
  return {
    status: (RUN_STATUSES as readonly string[]).includes(status) ? (status as RunStatus) : '',
    flowId: q.get('flow_id')?.trim() ?? '',
    test: q.get('test') === 'true',
  };
}

function urlOf(f: Filters): string {
  const q = new URLSearchParams();
  if (f.flowId) q.set('flow_id', f.flowId);
  if (f.status) q.set('status', f.status);
  if (f.test) q.set('test', 'true');
  const s = q.toString();
  return s ? `/runs?${s}` : '/runs';
}

/** "Finished" column: how long it took, or how long it has been going. */
function finishedText(run: RunSummary): string {
  const from = Date.parse(run.started_at ?? run.created_at);
  if (run.finished_at)
    return `${formatTime(run.finished_at)} · ${formatDuration(Date.parse(run.finished_at) - from)}`;
  if (run.status === 'running') return `running for ${formatDuration(Date.now() - from)}`;
  if (run.status === 'queued') return 'waiting to start';
  return '—';
}

export function RunsPage({ api }: { api: Api }) {
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const requestSeq = useRef(0);
  const flowName = useMemo(() => createNameCache(api, 'flows'), [api]);
  const names = useNames(flowName, [
    ...(runs ?? []).map((r) => r.flow_id),
    ...(filters.flowId ? [filters.flowId] : []),
  ]);

  const load = useCallback(
    /** `quiet`: a background re-read, which does not show "Refreshing…". */
    async (f: Filters, cursor?: string, quiet = false) => {
      const seq = ++requestSeq.current;
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (f.status) params.set('status', f.status);
      if (f.flowId) params.set('flow_id', f.flowId);
      if (f.test) params.set('test', 'true');
      if (cursor) params.set('cursor', cursor);
      if (!quiet) setLoading(true);
      try {
        const page = await api<Page<RunSummary>>('GET', `/runs?${params}`);
        if (seq !== requestSeq.current) return;
        setRuns((prev) => (cursor && prev ? [...prev, ...page.data] : page.data));
        setNextCursor(page.next_cursor);
        setLoadError(null);
      } catch (err) {
        if (seq === requestSeq.current) setLoadError(errorText(err));
      } finally {
        if (seq === requestSeq.current) setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    load(filters);
  }, [filters, load]);

  // While a run on the first page is queued or running, the page follows it (every 2 s) until it
  // ends; once older pages are loaded, only Refresh re-reads, so the list does not jump.
  const following = runs !== null && runs.length <= PAGE_SIZE && runs.some((r) => isActive(r.status));
  useEffect(() => {
    if (!following) return;
    const timer = setInterval(() => load(filters, undefined, true), 2000);
    return () => clearInterval(timer);
  }, [following, filters, load]);

  // Back and forward between filtered lists.
  useEffect(() => {
    const onPop = () => {
      if (location.pathname === '/runs') setFilters(filtersFromUrl());
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const change = (f: Filters) => {
    history.replaceState(null, '', urlOf(f));
    setFilters(f);
  };

  const filteredFlow = filters.flowId ? (names.get(filters.flowId) ?? filters.flowId) : null;

  return (
    <section aria-labelledby="runs-title">
      <header className="page-header">
        <div>
          <h1 id="runs-title">Runs</h1>
          <p className="muted">
            Every request to a flow's webhook starts a run. Open one to see the request, each step's input and
            output, and the webhooks it sent.
          </p>
        </div>
        <button type="button" className="button" onClick={() => load(filters)} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </header>

      <div className="toolbar runs-toolbar">
        <label className="field field-inline runs-filter">
          <span>Status</span>
          <select
            aria-label="Status"
            value={filters.status}
            onChange={(e) => change({ ...filters, status: e.target.value as Filters['status'] })}
          >
            <option value="">All</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="field field-inline runs-filter">
          <input
            type="checkbox"
            checked={filters.test}
            onChange={(e) => change({ ...filters, test: e.target.checked })}
          />
          <span>Test runs</span>
        </label>
        {filteredFlow !== null && (
          <span className="filter-chip">
            Flow: <strong>{filteredFlow}</strong>
            <button
              type="button"
              className="filter-chip-clear"
              aria-label="Show runs of every flow"
              onClick={() => change({ ...filters, flowId: '' })}
            >
              ×
            </button>
          </span>
        )}
      </div>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load runs: {loadError}</span>
          <button type="button" className="button" onClick={() => load(filters)}>
            Try again
          </button>
        </div>
      )}

      {runs === null && !loadError && <p className="muted">Loading runs…</p>}

      {runs !== null && runs.length === 0 && (
        <div className="empty">
          {filters.status || filters.flowId || filters.test ? (
            <>
              <h2>No runs match these filters</h2>
              <p className="muted">
                {filters.status ? `No ${filters.status}` : 'No'}
                {filters.test ? ' test run' : ' run'}
                {filteredFlow !== null ? ` of “${filteredFlow}”` : ''} yet.
              </p>
              <button
                type="button"
                className="button"
                onClick={() => change({ status: '', flowId: '', test: false })}
              >
                Show all runs
              </button>
            </>
          ) : (
            <>
              <h2>No runs yet</h2>
              <p className="muted">
                Send a request to a flow's webhook URL (on the Flows screen) and its run shows up here.
              </p>
              <Link to="/flows" className="button">
                Go to Flows
              </Link>
            </>
          )}
        </div>
      )}

      {runs !== null && runs.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Flow</th>
                <th>Status</th>
                <th>Created</th>
                <th>Finished</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const name = names.get(r.flow_id);
                return (
                  <tr key={r.id} data-run-id={r.id}>
                    <td>
                      <Link to={`/runs/${encodeURIComponent(r.id)}`} className="run-link">
                        <code>{r.id}</code>
                      </Link>
                      {r.manual && (
                        <span className="badge run-manual" title="Started with Run (POST /flows/:id/run)">
                          manual
                        </span>
                      )}
                      <RunModeBadge run={r} />
                    </td>
                    <td className="cell-name">
                      {name ? (
                        <span title={r.flow_id}>{name}</span>
                      ) : (
                        <code className="muted">{r.flow_id}</code>
                      )}
                    </td>
                    <td>
                      <StatusBadge status={r.status} />
                      {r.status === 'failed' && r.error && (
                        <div className="run-error-line" title={r.error}>
                          {r.error}
                        </div>
                      )}
                    </td>
                    <td className="cell-time">{formatTime(r.created_at)}</td>
                    <td className="cell-time">{finishedText(r)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {nextCursor && runs && runs.length > 0 && (
        <div className="more">
          <button
            type="button"
            className="button"
            onClick={() => load(filters, nextCursor)}
            disabled={loading}
          >
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
