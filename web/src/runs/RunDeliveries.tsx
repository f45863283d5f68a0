/**
 * The outbound messages a run caused (GET /messages?run_id=), each with its delivery to every
 * endpoint and every attempt of it. Followed while the run goes on or a delivery is pending.
 */
import { useEffect, useMemo, useState } from 'react';
import { type Api, errorText, type Page } from '../api.ts';
import { formatDuration, formatTimeExact } from '../format.ts';
import { Link } from '../router.tsx';
import { type Attempt, createNameCache, type Delivery, type Message, type MessageListItem } from './model.ts';
import { StatusBadge, useNames } from './parts.tsx';

const ACTIVE_POLL_MS = 1000;
const PENDING_POLL_MS = 3000;

type Loaded = { message: Message; attempts: Attempt[] };

async function loadRunMessages(api: Api, runId: string): Promise<Loaded[]> {
  const list = await api<Page<MessageListItem>>(
    'GET',
    `/messages?run_id=${encodeURIComponent(runId)}&limit=100`,
  );
  // Oldest first: in the order the run caused them.
  const ordered = [...list.data].reverse();
  return Promise.all(
    ordered.map(async (m) => {
      const id = encodeURIComponent(m.id);
      const [message, attempts] = await Promise.all([
        api<Message>('GET', `/messages/${id}`),
        api<Page<Attempt>>('GET', `/messages/${id}/attempts?limit=500`),
      ]);
      return { message, attempts: attempts.data };
    }),
  );
}

export function RunDeliveries({ api, runId, runActive }: { api: Api; runId: string; runActive: boolean }) {
  const [loaded, setLoaded] = useState<{ runId: string; messages: Loaded[] } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const endpointName = useMemo(() => createNameCache(api, 'endpoints'), [api]);
  const messages = loaded?.runId === runId ? loaded.messages : null;
  const names = useNames(
    endpointName,
    (messages ?? []).flatMap((m) => m.message.deliveries.map((d) => d.endpoint_id)),
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reloads` is the "Refresh" trigger
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const got = await loadRunMessages(api, runId);
        if (!live) return;
        setLoaded({ runId, messages: got });
        setLoadError(null);
        const pending = got.some((m) => m.message.deliveries.some((d) => d.status === 'pending'));
        if (runActive || pending) timer = setTimeout(tick, runActive ? ACTIVE_POLL_MS : PENDING_POLL_MS);
      } catch (err) {
        if (live) setLoadError(errorText(err));
      }
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, runId, runActive, reloads]);

  return (
    <section className="run-section" aria-labelledby="deliveries-title">
      <div className="section-header">
        <h2 id="deliveries-title">Deliveries</h2>
        <button type="button" className="button button-small" onClick={() => setReloads((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load the run's messages: {loadError}</span>
          <button type="button" className="button" onClick={() => setReloads((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {messages === null && !loadError && <p className="muted">Loading messages…</p>}
      {messages !== null && messages.length === 0 && (
        <p className="muted">
          {runActive
            ? 'No message yet: flow.completed or flow.failed is published when the run ends.'
            : 'This run published no message.'}{' '}
          webhook.received and run.started are published only while an endpoint subscribes to them.
        </p>
      )}
      {messages !== null && messages.length > 0 && (
        <ul className="messages">
          {messages.map(({ message, attempts }) => (
            <li key={message.id} className="panel message" data-message-id={message.id}>
              <div className="message-header">
                <strong>{message.event_type}</strong>
                <Link to={`/messages/${encodeURIComponent(message.id)}`} className="run-link">
                  <code>{message.id}</code>
                </Link>
                <span className="muted">{formatTimeExact(message.created_at)}</span>
              </div>
              {message.deliveries.length === 0 ? (
                <p className="muted">No endpoint subscribes to {message.event_type}: nothing was sent.</p>
              ) : (
                message.deliveries.map((d) => (
                  <DeliveryBlock
                    key={d.id}
                    delivery={d}
                    endpointName={names.get(d.endpoint_id) ?? null}
                    attempts={attempts.filter((a) => a.endpoint_id === d.endpoint_id)}
                  />
                ))
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function DeliveryBlock(props: { delivery: Delivery; endpointName: string | null; attempts: Attempt[] }) {
  const d = props.delivery;
  const label = props.endpointName ?? d.endpoint_id;
  return (
    <div className="delivery" data-endpoint-id={d.endpoint_id}>
      <div className="delivery-header">
        <span>
          To <strong title={d.endpoint_id}>{label}</strong>
        </span>
        <StatusBadge status={d.status} />
        <span className="muted">
          {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
          {d.status === 'pending' && d.next_attempt_at && ` · next ${formatTimeExact(d.next_attempt_at)}`}
          {d.delivered_at && ` · delivered ${formatTimeExact(d.delivered_at)}`}
        </span>
      </div>
      {props.attempts.length === 0 ? (
        <p className="muted">Not tried yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table-compact" aria-label={`Attempts to ${label}`}>
            <thead>
              <tr>
                <th>Time</th>
                <th>Result</th>
                <th>Response</th>
                <th>Duration</th>
                <th>Response body or error</th>
              </tr>
            </thead>
            <tbody>
              {props.attempts.map((a) => (
                <tr key={a.id}>
                  <td className="cell-time">
                    {formatTimeExact(a.created_at)}
                    {a.manual && <span className="muted"> · manual</span>}
                  </td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td>{a.response_status === null ? '—' : <code>{a.response_status}</code>}</td>
                  <td className="nowrap">{formatDuration(a.duration_ms)}</td>
                  <td className="attempt-body">
                    {a.error && <div className="attempt-error">{a.error}</div>}
                    {a.response_body ? (
                      <pre className="json json-small">{a.response_body}</pre>
                    ) : (
                      !a.error && <span className="muted">Empty body</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
