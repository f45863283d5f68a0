/**
 * Webhook Settings (docs/api.md §5.1, §8): the outbound endpoints of the tenant — list with an on/off
 * switch, the create / edit form with the Check button, the signing secret shown once after
 * create and after rotation, recovery of failed messages since a time, and delete. Each endpoint's
 * circuit breaker (§5.7) is shown in its row and in the edit panel; while a circuit is open, half
 * open or counting failures those endpoints are fetched again every few seconds.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { type Api, ApiError, errorText, type Page } from '../api.ts';
import { useBusyIds } from '../busy.ts';
import { DeleteDialog, Dialog } from '../Dialog.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useToast } from '../toasts.tsx';
import { CircuitBadge, circuitCountingDown, circuitWorthWatching, useNow } from './Circuit.tsx';
import { EndpointForm } from './EndpointForm.tsx';
import { SecretDialog } from './SecretDialog.tsx';
import { type Endpoint, type EventType, eventsText } from './types.ts';
import './endpoints.css';

const PAGE_SIZE = 100;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often endpoints with an open (or failing) circuit are fetched again. */
const CIRCUIT_POLL_MS = 4000;
/** At most this many endpoints are fetched again per poll (the Refresh button reloads them all). */
const CIRCUIT_POLL_MAX = 25;

/** A Date as the value of a datetime-local input (the reader's local time, to the minute). */
function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function authText(auth: Endpoint['auth']): string {
  if ('credential_id' in auth) return `${auth.type} (credential)`;
  if (auth.type === 'basic') return `Basic · ${auth.username}`;
  if (auth.type === 'api_key') return `API key · ${auth.header}`;
  if (auth.type === 'bearer') return 'Bearer token';
  return 'None';
}

export function EndpointsPage({ api }: { api: Api }) {
  const toast = useToast();
  const [endpoints, setEndpoints] = useState<Endpoint[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [eventTypes, setEventTypes] = useState<EventType[]>([]);
  const [busyIds, markBusy] = useBusyIds();
  // The form: closed (null), new ('new'), or editing an endpoint.
  const [form, setForm] = useState<'new' | Endpoint | null>(null);
  const [secret, setSecret] = useState<{ title: string; value: string; note: string } | null>(null);
  const [rotating, setRotating] = useState<Endpoint | null>(null);
  const [recovering, setRecovering] = useState<Endpoint | null>(null);
  const [since, setSince] = useState('');
  const [recoverError, setRecoverError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const [dialogBusy, setDialogBusy] = useState(false);
  const [refreshing, setRefreshing] = useState(false);

  const load = useCallback(
    async (cursor?: string) => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) params.set('cursor', cursor);
      try {
        const page = await api<Page<Endpoint>>('GET', `/endpoints?${params}`);
        setEndpoints((prev) => (cursor && prev ? [...prev, ...page.data] : page.data));
        setNextCursor(page.next_cursor);
        setLoadError(null);
      } catch (err) {
        setLoadError(errorText(err));
      }
    },
    [api],
  );
  const loadEventTypes = useCallback(async () => {
    try {
      setEventTypes((await api<{ data: EventType[] }>('GET', '/event-types')).data);
    } catch (err) {
      toast.error(`Could not load the event types: ${errorText(err)}`);
    }
  }, [api, toast]);

  useEffect(() => {
    void load();
    void loadEventTypes();
  }, [load, loadEventTypes]);

  const refresh = async () => {
    setRefreshing(true);
    try {
      await load();
    } finally {
      setRefreshing(false);
    }
  };

  // The countdown of open circuits ticks every second; endpoints whose circuit is not simply
  // closed are fetched again every few seconds (while the tab is visible) to follow it.
  const now = useNow(endpoints?.some((ep) => circuitCountingDown(ep, Date.now())) ?? false);
  const watched = (endpoints ?? [])
    .filter(circuitWorthWatching)
    .slice(0, CIRCUIT_POLL_MAX)
    .map((ep) => ep.id)
    .join(' ');
  const polling = useRef(false);
  useEffect(() => {
    if (!watched) return;
    const ids = watched.split(' ');
    const timer = setInterval(async () => {
      if (polling.current || document.hidden) return;
      polling.current = true;
      try {
        const fresh = await Promise.all(
          ids.map((id) =>
            api<Endpoint>('GET', `/endpoints/${encodeURIComponent(id)}`).then(
              (ep) => ({ id, ep }),
              (err: unknown) => ({
                id,
                ep: err instanceof ApiError && err.status === 404 ? null : undefined,
              }),
            ),
          ),
        );
        setEndpoints(
          (all) =>
            all?.flatMap((e) => {
              const got = fresh.find((f) => f.id === e.id);
              // Gone (404): drop it; an error: keep what was shown.
              if (!got || got.ep === undefined) return [e];
              return got.ep ? [got.ep] : [];
            }) ?? null,
        );
      } finally {
        polling.current = false;
      }
    }, CIRCUIT_POLL_MS);
    return () => clearInterval(timer);
  }, [watched, api]);

  const toggle = async (ep: Endpoint) => {
    markBusy(ep.id, true);
    try {
      const updated = await api<Endpoint>('PATCH', `/endpoints/${encodeURIComponent(ep.id)}`, {
        enabled: !ep.enabled,
      });
      setEndpoints((all) => all?.map((e) => (e.id === ep.id ? updated : e)) ?? null);
      toast.success(`“${updated.name}” ${updated.enabled ? 'enabled' : 'disabled'}`);
    } catch (err) {
      toast.error(`Could not change “${ep.name}”: ${errorText(err)}`);
    } finally {
      markBusy(ep.id, false);
    }
  };

  const saved = async (ep: Endpoint & { signing_secret?: string }) => {
    const wasNew = form === 'new';
    setForm(null);
    if (wasNew && ep.signing_secret)
      setSecret({
        title: `Signing secret of “${ep.name}”`,
        value: ep.signing_secret,
        note: 'Every message to this endpoint is signed with this secret.',
      });
    toast.success(wasNew ? `Endpoint “${ep.name}” created` : `Endpoint “${ep.name}” saved`);
    // Making one endpoint the default unsets another: reload the whole list.
    await load();
  };

  const rotate = async () => {
    if (!rotating) return;
    const ep = rotating;
    setDialogBusy(true);
    try {
      const r = await api<{ signing_secret: string; previous_secret_expires_at: string }>(
        'POST',
        `/endpoints/${encodeURIComponent(ep.id)}/rotate-secret`,
      );
      setRotating(null);
      setSecret({
        title: `New signing secret of “${ep.name}”`,
        value: r.signing_secret,
        note: `Messages are signed with both the new and the old secret until ${formatTime(r.previous_secret_expires_at)}; update the receiver before then.`,
      });
      await load();
    } catch (err) {
      toast.error(`Could not rotate the secret of “${ep.name}”: ${errorText(err)}`);
    } finally {
      setDialogBusy(false);
    }
  };

  const openRecover = (ep: Endpoint) => {
    setSince(localInputValue(new Date(Date.now() - DAY_MS)));
    setRecoverError(null);
    setRecovering(ep);
  };
  const recover = async () => {
    if (!recovering) return;
    const ep = recovering;
    const sinceDate = new Date(since);
    if (!since || Number.isNaN(sinceDate.getTime())) return setRecoverError('Enter a date and time');
    setDialogBusy(true);
    try {
      const r = await api<{ recovered: number }>('POST', `/endpoints/${encodeURIComponent(ep.id)}/recover`, {
        since: sinceDate.toISOString(),
      });
      setRecovering(null);
      toast.success(
        r.recovered === 0
          ? `No failed messages to “${ep.name}” since ${formatTime(sinceDate.toISOString())}`
          : `Resending ${r.recovered} failed ${r.recovered === 1 ? 'message' : 'messages'} to “${ep.name}”`,
      );
    } catch (err) {
      setRecoverError(errorText(err));
    } finally {
      setDialogBusy(false);
    }
  };

  const openNew = () => {
    void loadEventTypes();
    setForm('new');
  };

  return (
    <section aria-labelledby="endpoints-title">
      <header className="page-header">
        <div>
          <h1 id="endpoints-title">Webhook Settings</h1>
          <p className="muted">
            Outbound webhooks: every event an endpoint subscribes to is sent to its URL, signed, and retried
            until it is answered 2xx.
          </p>
        </div>
        <div className="endpoints-header-actions">
          <button
            type="button"
            className="button"
            onClick={refresh}
            disabled={refreshing}
            title="Load the endpoints and their circuit state again"
          >
            {refreshing ? 'Refreshing…' : 'Refresh'}
          </button>
          {form === null && (
            <button type="button" className="button button-primary" onClick={openNew}>
              Add endpoint
            </button>
          )}
        </div>
      </header>

      {form !== null && (
        <EndpointForm
          key={form === 'new' ? 'new' : form.id}
          api={api}
          editing={form === 'new' ? null : form}
          circuit={form === 'new' ? undefined : endpoints?.find((e) => e.id === form.id)?.circuit}
          now={now}
          eventTypes={eventTypes}
          onCancel={() => setForm(null)}
          onSaved={saved}
        />
      )}

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load endpoints: {loadError}</span>
          <button type="button" className="button" onClick={() => load()}>
            Try again
          </button>
        </div>
      )}

      {endpoints === null && !loadError && <p className="muted">Loading endpoints…</p>}

      {endpoints !== null && endpoints.length === 0 && form === null && (
        <div className="empty">
          <h2>No endpoints yet</h2>
          <p className="muted">
            Add the URL of a system that should hear about flows and events; it gets a signing secret to check
            every message with.
          </p>
          <button type="button" className="button button-primary" onClick={openNew}>
            Add your first endpoint
          </button>
        </div>
      )}

      {endpoints !== null && endpoints.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Endpoints">
            <thead>
              <tr>
                <th>Name</th>
                <th>URL</th>
                <th>Events</th>
                <th>Auth</th>
                <th>Enabled</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((ep) => (
                <tr key={ep.id} data-endpoint-id={ep.id}>
                  <td className="cell-name" title={ep.id}>
                    {ep.name}
                    {ep.is_default && <span className="badge badge-default">Default</span>}
                  </td>
                  <td>
                    <span className="method">{ep.method}</span>{' '}
                    <code className="url" title={ep.url}>
                      {ep.url}
                    </code>
                  </td>
                  <td className="cell-events">{eventsText(ep.events)}</td>
                  <td>{authText(ep.auth)}</td>
                  <td>
                    <label className="switch">
                      <input
                        type="checkbox"
                        role="switch"
                        aria-checked={ep.enabled}
                        aria-label={`Enabled: ${ep.name}`}
                        checked={ep.enabled}
                        disabled={busyIds.has(ep.id)}
                        onChange={() => toggle(ep)}
                      />
                      <span className="switch-track" aria-hidden="true" />
                      <span className="switch-text">{ep.enabled ? 'On' : 'Off'}</span>
                    </label>
                    {!ep.enabled && ep.disabled_reason && (
                      <div className="disabled-reason" title={ep.disabled_reason}>
                        {ep.disabled_reason}
                      </div>
                    )}
                    {ep.enabled && <CircuitBadge circuit={ep.circuit} now={now} />}
                  </td>
                  <td className="actions">
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button button-small"
                        aria-label={`Edit ${ep.name}`}
                        onClick={() => {
                          void loadEventTypes();
                          setForm(ep);
                        }}
                      >
                        Edit
                      </button>
                      <Link
                        to={`/messages?endpoint_id=${encodeURIComponent(ep.id)}`}
                        className="button button-small"
                      >
                        Messages
                      </Link>
                      <button
                        type="button"
                        className="button button-small"
                        aria-label={`Recover ${ep.name}`}
                        onClick={() => openRecover(ep)}
                      >
                        Recover
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        aria-label={`Rotate secret of ${ep.name}`}
                        onClick={() => setRotating(ep)}
                      >
                        Rotate secret
                      </button>
                      <button
                        type="button"
                        className="button button-small button-danger-quiet"
                        aria-label={`Delete ${ep.name}`}
                        onClick={() => setDeleting(ep)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {nextCursor && endpoints && endpoints.length > 0 && (
        <div className="more">
          <button type="button" className="button" onClick={() => load(nextCursor)}>
            Show more
          </button>
        </div>
      )}

      <SecretDialog
        title={secret?.title ?? 'Signing secret'}
        secret={secret?.value ?? null}
        note={secret?.note ?? ''}
        onClose={() => setSecret(null)}
      />

      <Dialog
        title="Rotate signing secret"
        open={rotating !== null}
        onClose={() => setRotating(null)}
        onSubmit={rotate}
        submitLabel={dialogBusy ? 'Rotating…' : 'Rotate secret'}
        busy={dialogBusy}
      >
        <p>
          Make a new signing secret for <strong>{rotating?.name}</strong>? The new secret is shown once. For
          24 hours messages carry signatures with both the old and the new secret, so the receiver can switch
          over.
        </p>
      </Dialog>

      <Dialog
        title="Recover failed messages"
        open={recovering !== null}
        onClose={() => setRecovering(null)}
        onSubmit={recover}
        submitLabel={dialogBusy ? 'Recovering…' : 'Resend failed messages'}
        busy={dialogBusy}
      >
        <p className="muted">
          Every message to <strong>{recovering?.name}</strong> that failed (or was cancelled) since this time
          is sent again, on a fresh retry schedule.
        </p>
        <label className="field">
          <span>Since</span>
          <input
            type="datetime-local"
            value={since}
            max={localInputValue(new Date())}
            onChange={(e) => setSince(e.target.value)}
          />
        </label>
        {recoverError && (
          <p className="form-error" role="alert">
            {recoverError}
          </p>
        )}
      </Dialog>

      <DeleteDialog
        api={api}
        noun="endpoint"
        item={deleting}
        path={(ep) => `/endpoints/${encodeURIComponent(ep.id)}`}
        onClose={() => setDeleting(null)}
        onDeleted={(ep) => setEndpoints((all) => all?.filter((e) => e.id !== ep.id) ?? null)}
      >
        {(ep) => (
          <>
            Nothing more is sent to <code>{ep.url}</code>; messages not yet delivered to it are cancelled.
            Their history stays under Messages.
          </>
        )}
      </DeleteDialog>
    </section>
  );
}
