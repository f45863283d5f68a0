/**
 * The create / edit form of an outbound endpoint (docs/api.md §8 "Webhook Settings"): name, events,
 * notification type REST, URL with a Check button (the green tick), method, auth None / Basic /
 * API key, max in flight, default toggle, Create (Save) and Cancel. The API validates; its sentence
 * is shown. Editing also shows the endpoint's circuit breaker when it is not simply closed (§5.7).
 *
 * Secrets are write-only: editing shows whether one is stored and sends a new one only if typed
 * (the API keeps the stored secret when an inline auth of the same type leaves it out).
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { CircuitDetail } from './Circuit.tsx';
import {
  type CheckResult,
  type Endpoint,
  type EndpointCircuit,
  type EndpointMethod,
  type EventType,
  MAX_IN_FLIGHT,
} from './types.ts';

type AuthChoice = 'none' | 'basic' | 'api_key' | 'keep';

const AUTH_LABELS: Record<Exclude<AuthChoice, 'keep'>, string> = {
  none: 'None',
  basic: 'Basic (username and password)',
  api_key: 'API key (header and value)',
};

/** Auth the form cannot edit (bearer, or a stored credential) is kept as it is unless replaced. */
function keptAuthText(auth: Endpoint['auth']): string | null {
  if ('credential_id' in auth) return `${auth.type} from credential ${auth.credential_id}`;
  if (auth.type === 'bearer') return 'bearer token';
  return null;
}

/** The typed max in flight as a number, or null when it is not a whole number in range. */
function parseMaxInFlight(text: string): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= MAX_IN_FLIGHT.min && n <= MAX_IN_FLIGHT.max ? n : null;
}

function initialAuth(ep: Endpoint | null): AuthChoice {
  if (!ep) return 'none';
  if (keptAuthText(ep.auth)) return 'keep';
  return ep.auth.type as AuthChoice;
}

export function EndpointForm(props: {
  api: Api;
  editing: Endpoint | null;
  /** The edited endpoint's circuit as last loaded (the page keeps it fresh), and the time now. */
  circuit?: EndpointCircuit;
  now?: number;
  eventTypes: EventType[];
  onCancel: () => void;
  onSaved: (endpoint: Endpoint & { signing_secret?: string }) => void;
}) {
  const { api, editing } = props;
  const [name, setName] = useState(editing?.name ?? '');
  const [events, setEvents] = useState<string[]>(editing?.events ?? ['*']);
  const [customEvent, setCustomEvent] = useState('');
  const [url, setUrl] = useState(editing?.url ?? '');
  const [method, setMethod] = useState<EndpointMethod>(editing?.method ?? 'POST');
  const [authType, setAuthType] = useState<AuthChoice>(initialAuth(editing));
  const [authDirty, setAuthDirty] = useState(false);
  const [username, setUsername] = useState(
    editing && editing.auth.type === 'basic' && 'username' in editing.auth ? editing.auth.username : '',
  );
  const [password, setPassword] = useState('');
  const [header, setHeader] = useState(
    editing && editing.auth.type === 'api_key' && 'header' in editing.auth
      ? editing.auth.header
      : 'X-API-Key',
  );
  const [keyValue, setKeyValue] = useState('');
  const [isDefault, setIsDefault] = useState(editing?.is_default ?? false);
  const [maxInFlight, setMaxInFlight] = useState(String(editing?.max_in_flight ?? MAX_IN_FLIGHT.default));
  const [maxInFlightInvalid, setMaxInFlightInvalid] = useState(false);
  const [check, setCheck] = useState<{ busy: boolean; result?: CheckResult; error?: string }>({
    busy: false,
  });
  const [saveError, setSaveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const nameRef = useRef<HTMLInputElement>(null);
  const maxInFlightRef = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  // The form opens above the list: bring it into view with the cursor in the first field.
  useEffect(() => {
    formRef.current?.scrollIntoView({ block: 'nearest' });
    nameRef.current?.focus();
  }, []);

  const kept = editing ? keptAuthText(editing.auth) : null;
  const storedSecret =
    editing !== null &&
    !authDirty &&
    (('has_password' in editing.auth && editing.auth.has_password) ||
      ('has_value' in editing.auth && editing.auth.has_value));

  const allEvents = events.includes('*');
  // The catalog, plus any type the endpoint already has that the catalog lacks.
  const choices = [...new Set([...props.eventTypes.map((t) => t.name), ...events.filter((e) => e !== '*')])];

  const editAuth = (fn: () => void) => {
    fn();
    setAuthDirty(true);
    setCheck({ busy: false });
  };
  const toggleEvent = (ev: string, on: boolean) =>
    setEvents((all) => (on ? [...all.filter((e) => e !== ev), ev] : all.filter((e) => e !== ev)));
  const addCustomEvent = () => {
    const ev = customEvent.trim();
    if (!ev) return;
    setEvents((all) => [...all.filter((e) => e !== '*' && e !== ev), ev]);
    setCustomEvent('');
  };

  /** The auth to send, or undefined to leave the stored auth as it is (editing, untouched). */
  const authBody = (): Record<string, string> | undefined => {
    if (authType === 'keep' || (editing && !authDirty)) return undefined;
    if (authType === 'basic') return { type: 'basic', username, ...(password ? { password } : {}) };
    if (authType === 'api_key') return { type: 'api_key', header, ...(keyValue ? { value: keyValue } : {}) };
    return { type: 'none' };
  };

  const runCheck = async () => {
    if (!url.trim()) return setCheck({ busy: false, error: 'Enter the URL to check' });
    setCheck({ busy: true });
    try {
      const auth = authBody();
      const result = await api<CheckResult>('POST', '/endpoints/check', {
        url: url.trim(),
        method,
        // Editing: signed with the endpoint's own secret, and with its stored auth unless changed.
        ...(editing ? { endpoint_id: editing.id } : {}),
        ...(auth ? { auth } : editing ? {} : { auth: { type: 'none' } }),
      });
      setCheck({ busy: false, result });
    } catch (err) {
      setCheck({ busy: false, error: errorText(err) });
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setSaveError('Give the endpoint a name');
    if (events.length === 0) return setSaveError('Choose at least one event, or All events');
    const maxInFlightValue = parseMaxInFlight(maxInFlight);
    if (maxInFlightValue === null) {
      setMaxInFlightInvalid(true);
      maxInFlightRef.current?.focus();
      return setSaveError(
        `Max in flight must be a whole number from ${MAX_IN_FLIGHT.min} to ${MAX_IN_FLIGHT.max}`,
      );
    }
    setMaxInFlightInvalid(false);
    setBusy(true);
    setSaveError(null);
    try {
      const auth = authBody();
      const body = {
        name: name.trim(),
        url: url.trim(),
        method,
        events,
        is_default: isDefault,
        max_in_flight: maxInFlightValue,
        ...(auth ? { auth } : {}),
      };
      const saved = editing
        ? await api<Endpoint>('PATCH', `/endpoints/${encodeURIComponent(editing.id)}`, body)
        : await api<Endpoint & { signing_secret: string }>('POST', '/endpoints', body);
      props.onSaved(saved);
    } catch (err) {
      setSaveError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const title = editing ? `Edit “${editing.name}”` : 'New webhook';
  return (
    <form ref={formRef} className="panel endpoint-form" aria-label={title} onSubmit={submit} noValidate>
      <h2>{title}</h2>
      {editing && (
        <p className="muted">
          ID <code>{editing.id}</code>
        </p>
      )}
      {editing?.enabled && (
        <CircuitDetail circuit={props.circuit ?? editing.circuit} now={props.now ?? Date.now()} />
      )}

      <div className="field">
        <label htmlFor="endpoint-name">
          <span>Name</span>
        </label>
        <input
          id="endpoint-name"
          ref={nameRef}
          placeholder="CRM sync"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </div>

      <fieldset className="field events-field">
        <legend>
          <span>Events</span>
        </legend>
        <label className="field-inline event-choice event-all">
          <input
            type="checkbox"
            checked={allEvents}
            onChange={(e) => setEvents(e.target.checked ? ['*'] : [])}
          />
          <span>
            All events <code>*</code>
          </span>
        </label>
        <div className="event-grid">
          {choices.map((ev) => (
            <label key={ev} className="field-inline event-choice">
              <input
                type="checkbox"
                disabled={allEvents}
                checked={!allEvents && events.includes(ev)}
                onChange={(e) => toggleEvent(ev, e.target.checked)}
              />
              <code>{ev}</code>
            </label>
          ))}
        </div>
        <div className="inline-row">
          <input
            aria-label="Another event type"
            placeholder="Another event type, e.g. order.created"
            value={customEvent}
            onChange={(e) => setCustomEvent(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addCustomEvent();
              }
            }}
          />
          <button type="button" className="button" onClick={addCustomEvent} disabled={!customEvent.trim()}>
            Add
          </button>
        </div>
      </fieldset>

      <div className="field-pair">
        <div className="field">
          <label htmlFor="endpoint-type">
            <span>Notification type</span>
          </label>
          <select id="endpoint-type" defaultValue="rest">
            <option value="rest">REST</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="endpoint-method">
            <span>Method</span>
          </label>
          <select
            id="endpoint-method"
            value={method}
            onChange={(e) => {
              setMethod(e.target.value as EndpointMethod);
              setCheck({ busy: false });
            }}
          >
            <option>POST</option>
            <option>PUT</option>
            <option>PATCH</option>
          </select>
        </div>
      </div>

      <div className="field">
        <label htmlFor="endpoint-url">
          <span>URL</span>
        </label>
        <div className="inline-row">
          <input
            id="endpoint-url"
            type="url"
            placeholder="https://crm.example.com/hooks"
            value={url}
            onChange={(e) => {
              setUrl(e.target.value);
              setCheck({ busy: false });
            }}
          />
          <button type="button" className="button" onClick={runCheck} disabled={check.busy}>
            {check.busy ? 'Checking…' : 'Check'}
          </button>
        </div>
        <CheckOutcome check={check} />
      </div>

      <div className="field">
        <label htmlFor="endpoint-auth">
          <span>Auth</span>
        </label>
        <select
          id="endpoint-auth"
          value={authType}
          onChange={(e) => editAuth(() => setAuthType(e.target.value as AuthChoice))}
        >
          {kept && <option value="keep">Keep the current auth ({kept})</option>}
          {Object.entries(AUTH_LABELS).map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {authType === 'basic' && (
        <div className="field-pair">
          <div className="field">
            <label htmlFor="endpoint-username">
              <span>Username</span>
            </label>
            <input
              id="endpoint-username"
              autoComplete="off"
              value={username}
              onChange={(e) => editAuth(() => setUsername(e.target.value))}
            />
          </div>
          <div className="field">
            <label htmlFor="endpoint-password">
              <span>Password</span>
            </label>
            <input
              id="endpoint-password"
              type="password"
              autoComplete="new-password"
              placeholder={storedSecret ? 'Stored — leave empty to keep' : ''}
              value={password}
              onChange={(e) => editAuth(() => setPassword(e.target.value))}
            />
          </div>
        </div>
      )}
      {authType === 'api_key' && (
        <div className="field-pair">
          <div className="field">
            <label htmlFor="endpoint-header">
              <span>Header</span>
            </label>
            <input
              id="endpoint-header"
              autoComplete="off"
              value={header}
              onChange={(e) => editAuth(() => setHeader(e.target.value))}
            />
          </div>
          <div className="field">
            <label htmlFor="endpoint-key-value">
              <span>Value</span>
            </label>
            <input
              id="endpoint-key-value"
              type="password"
              autoComplete="new-password"
              placeholder={storedSecret ? 'Stored — leave empty to keep' : ''}
              value={keyValue}
              onChange={(e) => editAuth(() => setKeyValue(e.target.value))}
            />
          </div>
        </div>
      )}

      <div className="field">
        <label htmlFor="endpoint-max-in-flight">
          <span>Max in flight</span>
        </label>
        <input
          id="endpoint-max-in-flight"
          ref={maxInFlightRef}
          className="number-input"
          type="number"
          inputMode="numeric"
          min={MAX_IN_FLIGHT.min}
          max={MAX_IN_FLIGHT.max}
          step={1}
          aria-invalid={maxInFlightInvalid || undefined}
          aria-describedby="endpoint-max-in-flight-hint"
          value={maxInFlight}
          onChange={(e) => {
            setMaxInFlight(e.target.value);
            setMaxInFlightInvalid(false);
          }}
        />
        <p id="endpoint-max-in-flight-hint" className="muted hint">
          Attempts sent to this endpoint at the same time, per worker process; more wait their turn (
          {MAX_IN_FLIGHT.min}–{MAX_IN_FLIGHT.max}, default {MAX_IN_FLIGHT.default}).
        </p>
      </div>

      <div className="field">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            aria-checked={isDefault}
            aria-label="Default endpoint"
            checked={isDefault}
            onChange={(e) => setIsDefault(e.target.checked)}
          />
          <span className="switch-track" aria-hidden="true" />
          <span className="switch-label">Default endpoint</span>
        </label>
        <p className="muted hint">
          Flows that send to “the default endpoint” use this one. Only one endpoint is the default; making
          this one the default unsets the other.
        </p>
      </div>

      {saveError && (
        <p className="form-error" role="alert">
          {saveError}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {editing ? (busy ? 'Saving…' : 'Save') : busy ? 'Creating…' : 'Create'}
        </button>
      </div>
    </form>
  );
}

function CheckOutcome({ check }: { check: { busy: boolean; result?: CheckResult; error?: string } }) {
  if (check.error)
    return (
      <p className="check check-failed" role="alert">
        <span aria-hidden="true">✕</span> {check.error}
      </p>
    );
  const r = check.result;
  if (!r) return null;
  if (r.ok)
    return (
      <p className="check check-ok" role="status">
        <span className="tick" role="img" aria-label="Check passed">
          ✓
        </span>{' '}
        Answered {r.status} in {r.latency_ms} ms
      </p>
    );
  const why =
    r.error ?? (r.status !== null ? `Answered ${r.status}; a webhook URL must answer 2xx` : 'No answer');
  return (
    <p className="check check-failed" role="alert">
      <span aria-hidden="true">✕</span> {why}
      {r.status !== null || r.latency_ms > 0 ? <span className="muted"> · {r.latency_ms} ms</span> : null}
    </p>
  );
}
