/**
 * Messages (docs/api.md §5.9, §8): every event published to the tenant's endpoints, newest first, with how
 * its deliveries stand; filtered by event type and endpoint (kept in the page URL so a filtered
 * list can be shared, e.g. from an endpoint's row). `?run_id=` narrows the list to one run's
 * messages and is passed to the API as is.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { type Api, errorText, type Page } from '../api.ts';
import type { Endpoint, EventType } from '../endpoints/types.ts';
import { formatTime } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { type MessageListItem, STATUS_ORDER } from './types.ts';
import './messages.css';

const PAGE_SIZE = 50;

type Filters = { event_type: string; endpoint_id: string; run_id: string };

function filtersFromUrl(): Filters {
  const q = new URLSearchParams(location.search);
  return {
    event_type: q.get('event_type') ?? '',
    endpoint_id: q.get('endpoint_id') ?? '',
    run_id: q.get('run_id') ?? '',
  };
}

/** Only the filters that are set: the API is not sent empty (or unknown) keys. */
function filterParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) p.set(k, v);
  return p;
}

export function DeliverySummary({ summary }: { summary: MessageListItem['delivery_summary'] }) {
  const parts = STATUS_ORDER.filter((s) => summary[s] > 0);
  if (parts.length === 0) return <span className="muted">No endpoint subscribed</span>;
  return (
    <span className="summary">
      {parts.map((s) => (
        <span key={s} className={`status status-${s}`}>
          {summary[s]} {s}
        </span>
      ))}
    </span>
  );
}

export function MessagesPage({ api }: { api: Api }) {
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const [messages, setMessages] = useState<MessageListItem[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [eventTypes, setEventTypes] = useState<EventType[]>([]);
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const requestSeq = useRef(0);

  const load = useCallback(
    async (f: Filters, cursor?: string) => {
      const seq = ++requestSeq.current;
      const params = filterParams(f);
      params.set('limit', String(PAGE_SIZE));
      if (cursor) params.set('cursor', cursor);
      if (cursor) setLoadingMore(true);
      try {
        const page = await api<Page<MessageListItem>>('GET', `/messages?${params}`);
        if (seq !== requestSeq.current) return;
        setMessages((prev) => (cursor && prev ? [...prev, ...page.data] : page.data));
        setNextCursor(page.next_cursor);
        setLoadError(null);
      } catch (err) {
        if (seq === requestSeq.current) setLoadError(errorText(err));
      } finally {
        setLoadingMore(false);
      }
    },
    [api],
  );

  useEffect(() => {
    void load(filters);
  }, [filters, load]);

  useEffect(() => {
    // The filter choices; the list works without them, so a failure only leaves them short.
    api<{ data: EventType[] }>('GET', '/event-types').then(
      (r) => setEventTypes(r.data),
      () => {},
    );
    api<Page<Endpoint>>('GET', '/endpoints?limit=500').then(
      (r) => setEndpoints(r.data),
      () => {},
    );
  }, [api]);

  const change = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    setFilters(next);
    const q = filterParams(next).toString();
    navigate(`/messages${q ? `?${q}` : ''}`, { replace: true });
  };

  const filtered = Boolean(filters.event_type || filters.endpoint_id || filters.run_id);
  const eventChoices = [...new Set([...eventTypes.map((t) => t.name), filters.event_type].filter(Boolean))];

  return (
    <section aria-labelledby="messages-title">
      <header className="page-header">
        <div>
          <h1 id="messages-title">Messages</h1>
          <p className="muted">
            Every event sent to your endpoints, newest first. Open one for its payload, each attempt, and
            Retry.
          </p>
        </div>
      </header>

      <div className="toolbar filters">
        <div className="filter">
          <label htmlFor="messages-event-type">Event type</label>
          <select
            id="messages-event-type"
            value={filters.event_type}
            onChange={(e) => change({ event_type: e.target.value })}
          >
            <option value="">All event types</option>
            {eventChoices.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="filter">
          <label htmlFor="messages-endpoint">Endpoint</label>
          <select
            id="messages-endpoint"
            value={filters.endpoint_id}
            onChange={(e) => change({ endpoint_id: e.target.value })}
          >
            <option value="">All endpoints</option>
            {filters.endpoint_id && !endpoints.some((ep) => ep.id === filters.endpoint_id) && (
              <option value={filters.endpoint_id}>{filters.endpoint_id}</option>
            )}
            {endpoints.map((ep) => (
              <option key={ep.id} value={ep.id}>
                {ep.name}
              </option>
            ))}
          </select>
        </div>
        {filters.run_id && (
          <span className="run-filter">
            Run <code>{filters.run_id}</code>
            <button
              type="button"
              className="button button-small"
              aria-label="Show messages of every run"
              onClick={() => change({ run_id: '' })}
            >
              ×
            </button>
          </span>
        )}
      </div>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load messages: {loadError}</span>
          <button type="button" className="button" onClick={() => load(filters)}>
            Try again
          </button>
        </div>
      )}

      {messages === null && !loadError && <p className="muted">Loading messages…</p>}

      {messages !== null && messages.length === 0 && (
        <div className="empty">
          {filtered ? (
            <>
              <h2>No messages match these filters</h2>
              <p className="muted">Choose another event type or endpoint, or clear the filters.</p>
              <button
                type="button"
                className="button"
                onClick={() => change({ event_type: '', endpoint_id: '', run_id: '' })}
              >
                Clear filters
              </button>
            </>
          ) : (
            <>
              <h2>No messages yet</h2>
              <p className="muted">
                A message is written each time a flow emits an event or one is published with{' '}
                <code>POST /api/v1/events</code>; it is sent to every endpoint subscribed to its type.
              </p>
              <Link to="/endpoints" className="button">
                Go to Webhook Settings
              </Link>
            </>
          )}
        </div>
      )}

      {messages !== null && messages.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Messages">
            <thead>
              <tr>
                <th>Message</th>
                <th>Event type</th>
                <th>Created</th>
                <th>Deliveries</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((m) => (
                <tr key={m.id} data-message-id={m.id}>
                  <td>
                    <Link to={`/messages/${encodeURIComponent(m.id)}`} className="message-link">
                      <code>{m.id}</code>
                    </Link>
                  </td>
                  <td>
                    <code>{m.event_type}</code>
                  </td>
                  <td className="cell-time">{formatTime(m.created_at)}</td>
                  <td>
                    <DeliverySummary summary={m.delivery_summary} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {nextCursor && messages && messages.length > 0 && (
        <div className="more">
          <button
            type="button"
            className="button"
            disabled={loadingMore}
            onClick={() => load(filters, nextCursor)}
          >
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}
