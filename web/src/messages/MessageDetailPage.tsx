/**
 * One message (docs/api.md §5.9, §8): its payload as endpoints receive it, its delivery to each endpoint
 * with Retry, and every attempt (status, response, duration, error). While a delivery is pending
 * the page refreshes itself, so a retry's outcome shows without reloading.
 */
import { useCallback, useEffect, useState } from 'react';
import { type Api, ApiError, errorText, type Page } from '../api.ts';
import type { Endpoint } from '../endpoints/types.ts';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useToast } from '../toasts.tsx';
import type { Attempt, Message } from './types.ts';
import './messages.css';

const REFRESH_WHILE_PENDING_MS = 1500;

export function MessageDetailPage({ api, id }: { api: Api; id: string }) {
  const toast = useToast();
  const [message, setMessage] = useState<Message | null>(null);
  const [attempts, setAttempts] = useState<Attempt[]>([]);
  const [endpoints, setEndpoints] = useState<Map<string, Endpoint>>(new Map());
  const [loadError, setLoadError] = useState<{ text: string; notFound: boolean } | null>(null);
  const [retrying, setRetrying] = useState<Set<string>>(new Set());

  const load = useCallback(async () => {
    const path = `/messages/${encodeURIComponent(id)}`;
    try {
      const [m, a] = await Promise.all([
        api<Message>('GET', path),
        api<Page<Attempt>>('GET', `${path}/attempts?limit=500`),
      ]);
      setMessage(m);
      setAttempts(a.data);
      setLoadError(null);
    } catch (err) {
      setLoadError({ text: errorText(err), notFound: err instanceof ApiError && err.status === 404 });
    }
  }, [api, id]);

  useEffect(() => {
    void load();
    api<Page<Endpoint>>('GET', '/endpoints?limit=500').then(
      (r) => setEndpoints(new Map(r.data.map((ep) => [ep.id, ep]))),
      () => {},
    );
  }, [api, load]);

  const pending = message?.deliveries.some((d) => d.status === 'pending') ?? false;
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => void load(), REFRESH_WHILE_PENDING_MS);
    return () => clearTimeout(t);
  }, [pending, load]);

  const endpointName = (endpointId: string) => endpoints.get(endpointId)?.name ?? endpointId;

  const retry = async (endpointId: string) => {
    setRetrying((s) => new Set(s).add(endpointId));
    try {
      await api('POST', `/messages/${encodeURIComponent(id)}/retry`, { endpoint_id: endpointId });
      toast.success(`Sending again to “${endpointName(endpointId)}”`);
      await load();
    } catch (err) {
      toast.error(`Could not retry to “${endpointName(endpointId)}”: ${errorText(err)}`);
    } finally {
      setRetrying((s) => {
        const next = new Set(s);
        next.delete(endpointId);
        return next;
      });
    }
  };

  const back = (
    <Link to="/messages" className="back-link">
      ← Messages
    </Link>
  );

  if (loadError && !message)
    return (
      <section aria-labelledby="message-title">
        {back}
        <h1 id="message-title">Message</h1>
        {loadError.notFound ? (
          <div className="empty">
            <h2>No message {id}</h2>
            <p className="muted">It may have been removed by retention, or belong to another tenant.</p>
          </div>
        ) : (
          <div className="banner banner-error" role="alert">
            <span>Could not load the message: {loadError.text}</span>
            <button type="button" className="button" onClick={() => load()}>
              Try again
            </button>
          </div>
        )}
      </section>
    );

  return (
    <section aria-labelledby="message-title">
      {back}
      <header className="page-header">
        <div>
          <h1 id="message-title">Message</h1>
          <p className="muted">
            <code>{id}</code>
            {message && (
              <>
                {' · '}
                <code>{message.event_type}</code> · {formatTime(message.created_at)} · from {message.source}
              </>
            )}
          </p>
        </div>
      </header>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not refresh the message: {loadError.text}</span>
          <button type="button" className="button" onClick={() => load()}>
            Try again
          </button>
        </div>
      )}

      {message === null ? (
        <p className="muted">Loading the message…</p>
      ) : (
        <>
          <h2 className="section-title">Deliveries</h2>
          {message.deliveries.length === 0 ? (
            <div className="empty empty-small">
              <p className="muted">
                No endpoint was subscribed to {message.event_type} when this message was written.
              </p>
            </div>
          ) : (
            <div className="table-wrap">
              <table className="table" aria-label="Deliveries">
                <thead>
                  <tr>
                    <th>Endpoint</th>
                    <th>Status</th>
                    <th>Attempts</th>
                    <th>Last response</th>
                    <th>Next attempt</th>
                    <th>
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {message.deliveries.map((d) => (
                    <tr key={d.id} data-endpoint-id={d.endpoint_id}>
                      <td className="cell-name">{endpointName(d.endpoint_id)}</td>
                      <td>
                        <span className={`status status-${d.status}`}>{d.status}</span>
                      </td>
                      <td>{d.attempts}</td>
                      <td>
                        {d.last_response_status ?? <span className="muted">—</span>}
                        {d.last_error && <div className="cell-error">{d.last_error}</div>}
                      </td>
                      <td className="cell-time">
                        {d.status === 'pending' && d.next_attempt_at
                          ? formatTime(d.next_attempt_at)
                          : d.delivered_at
                            ? `Delivered ${formatTime(d.delivered_at)}`
                            : '—'}
                      </td>
                      <td className="actions">
                        <button
                          type="button"
                          className="button button-small"
                          aria-label={`Retry to ${endpointName(d.endpoint_id)}`}
                          disabled={retrying.has(d.endpoint_id)}
                          onClick={() => retry(d.endpoint_id)}
                        >
                          {retrying.has(d.endpoint_id) ? 'Retrying…' : 'Retry'}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}

          <h2 className="section-title">Attempts</h2>
          {attempts.length === 0 ? (
            <div className="empty empty-small">
              <p className="muted">
                {pending ? 'No attempt yet; the first one is on its way.' : 'No attempt was made.'}
              </p>
            </div>
          ) : (
            <div className="table-wrap">
              <table className="table" aria-label="Attempts">
                <thead>
                  <tr>
                    <th>Endpoint</th>
                    <th>Status</th>
                    <th>Response status</th>
                    <th>Response body</th>
                    <th>Duration</th>
                    <th>Error</th>
                    <th>Time</th>
                  </tr>
                </thead>
                <tbody>
                  {attempts.map((a) => (
                    <tr key={a.id} data-attempt-id={a.id}>
                      <td className="cell-name">
                        {endpointName(a.endpoint_id)}
                        {a.manual && <span className="muted"> (manual)</span>}
                      </td>
                      <td>
                        <span className={`status status-${a.status}`}>{a.status}</span>
                      </td>
                      <td>{a.response_status ?? <span className="muted">—</span>}</td>
                      <td className="cell-body">
                        {a.response_body ? (
                          <details>
                            <summary>{a.response_body.length} bytes</summary>
                            <pre className="code-block">{a.response_body}</pre>
                          </details>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td className="nowrap">{a.duration_ms} ms</td>
                      <td className="cell-error">{a.error ?? <span className="muted">—</span>}</td>
                      <td className="cell-time">{formatTime(a.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}

          <h2 className="section-title">Payload</h2>
          <pre className="code-block payload">{JSON.stringify(message.payload, null, 2)}</pre>
        </>
      )}
    </section>
  );
}
