/**
 * The webhook trigger's settings: its URL to copy, the provider preset (ProviderSection), methods,
 * the credential that checks callers,
 * a sample (listened for, or written as JSON or key-value pairs) whose fields become parameters
 * with a Required toggle, the response mode and the answer to GET verification requests.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { type Api, ApiError, errorText } from '../../api.ts';
import { copyText } from '../../clipboard.ts';
import { useToast } from '../../toasts.tsx';
import type { Config } from '../document.ts';
import { BodyField, KeyValueEditor, NumberField, SelectField, TextField, Toggle } from './fields.tsx';
import { withOptional } from './NodeForm.tsx';
import { type CredentialSummary, type PresetInfo, ProviderSection } from './ProviderSection.tsx';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/**
 * Credential types a webhook can check callers with (docs/api.md §3.3 auth): the generic ones and
 * every provider preset's type.
 */
const GENERIC_VERIFYING_TYPES = ['basic', 'api_key', 'bearer', 'hmac', 'standard_webhooks'];
const PARAM_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'any'];
const LISTEN_WINDOW_MS = 180_000;

type Parameter = { source: 'body' | 'query' | 'headers'; path: string; type?: string; required: boolean };
type Field = { source: Parameter['source']; path: string; type: string; example: unknown };
type CapturedRequest = {
  method: string | null;
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
};
type SampleAnswer = {
  status?: 'listening' | 'captured';
  expires_at?: string | null;
  captured_at?: string;
  request: CapturedRequest | null;
  fields: Field[];
};

/** A sample's integer may be a fraction next time: parameters start as "number"; null says nothing. */
function parameterType(fieldType: string): string {
  if (fieldType === 'integer') return 'number';
  if (fieldType === 'null') return 'any';
  return fieldType;
}

const keyOf = (p: { source: string; path: string }) => `${p.source}:${p.path}`;

export function WebhookPanel(props: {
  api: Api;
  flowId: string;
  nodeId: string;
  /** The node as last saved; listening needs the saved node. */
  saved: boolean;
  url: string | undefined;
  config: Config;
  onChange: (c: Config) => void;
  credentials: CredentialSummary[];
  /** GET /api/v1/presets (empty when it could not be loaded). */
  presets: PresetInfo[];
  onCredentialCreated: (c: CredentialSummary) => void;
}) {
  const { api, flowId, nodeId, config, onChange } = props;
  const toast = useToast();
  const methods = Array.isArray(config.methods) ? (config.methods as string[]) : ['POST'];
  const auth = (config.auth as { type: string; credential_id?: string } | undefined) ?? { type: 'none' };
  const parameters = (Array.isArray(config.parameters) ? config.parameters : []) as Parameter[];
  const response = (config.response as Record<string, unknown> | undefined) ?? { mode: 'ack' };
  const verification = config.verification as Record<string, unknown> | undefined;
  const idempotency = config.idempotency as { header?: string; window_s?: number } | undefined;

  const [examples, setExamples] = useState<Map<string, unknown>>(new Map());
  const [captured, setCaptured] = useState<{ request: CapturedRequest; at: string | null } | null>(null);
  const [sampleTab, setSampleTab] = useState<'listen' | 'json' | 'pairs'>('listen');
  const [newParam, setNewParam] = useState<{ source: Parameter['source']; path: string }>({
    source: 'body',
    path: '',
  });

  // The latest parameters, for merges that finish after an await.
  const latest = useRef({ config, parameters });
  latest.current = { config, parameters };

  /** Fields of a sample join the parameters (new ones not required); those already there stay as set. */
  const applyFields = useCallback(
    (fields: Field[]) => {
      const { config: cfg, parameters: params } = latest.current;
      const have = new Set(params.map(keyOf));
      const added = fields
        .filter((f) => !have.has(keyOf(f)))
        .map((f) => ({ source: f.source, path: f.path, type: parameterType(f.type), required: false }));
      setExamples(new Map(fields.map((f) => [keyOf(f), f.example])));
      if (added.length) onChange({ ...cfg, parameters: [...params, ...added] });
    },
    [onChange],
  );

  const sampleUrl = `/flows/${encodeURIComponent(flowId)}/nodes/${encodeURIComponent(nodeId)}/sample`;

  // A sample captured earlier fills the examples and the captured request when the panel opens.
  useEffect(() => {
    if (!props.saved) return;
    let live = true;
    api<SampleAnswer>('GET', sampleUrl)
      .then((s) => {
        if (!live || !s.request) return;
        setExamples(new Map(s.fields.map((f) => [keyOf(f), f.example])));
        if (s.request.method) setCaptured({ request: s.request, at: s.captured_at ?? null });
      })
      .catch(() => {
        /* no sample yet: nothing to show */
      });
    return () => {
      live = false;
    };
  }, [api, sampleUrl, props.saved]);

  const setParam = (i: number, patch: Partial<Parameter>) =>
    onChange({ ...config, parameters: parameters.map((p, j) => (j === i ? { ...p, ...patch } : p)) });

  const addParam = () => {
    const path = newParam.path.trim();
    if (!path) return;
    if (parameters.some((p) => keyOf(p) === keyOf({ source: newParam.source, path }))) {
      toast.error(`${newParam.source}.${path} is already a field`);
      return;
    }
    onChange({
      ...config,
      parameters: [...parameters, { source: newParam.source, path, type: 'any', required: false }],
    });
    setNewParam({ ...newParam, path: '' });
  };

  const setMode = (mode: string) => {
    if (mode === 'ack') onChange({ ...config, response: { mode: 'ack' } });
    else if (mode === 'custom')
      onChange({
        ...config,
        response: { mode: 'custom', status: 200, content_type: 'application/json', body: { received: true } },
      });
    else onChange({ ...config, response: { mode: 'flow', timeout_ms: 30000 } });
  };
  const setResponse = (key: string, value: unknown) =>
    onChange({ ...config, response: withOptional(response, key, value) });

  const verifyingTypes = new Set([
    ...GENERIC_VERIFYING_TYPES,
    ...props.presets.flatMap((p) => (p.credential_type ? [p.credential_type] : [])),
  ]);
  const credentialOptions = props.credentials.filter((c) => verifyingTypes.has(c.type));
  const preset = props.presets.find((p) => p.id === config.preset);
  const knownCredential = !auth.credential_id || credentialOptions.some((c) => c.id === auth.credential_id);

  return (
    <>
      <div className="field">
        <span className="field-label">URL</span>
        {props.url ? (
          <div className="url-copy">
            <code className="url" data-testid="webhook-url">
              {props.url}
            </code>
            <button
              type="button"
              className="button button-small"
              onClick={async () => {
                if (await copyText(props.url ?? '')) toast.success('URL copied');
                else toast.error('Could not copy; select the URL and copy it by hand');
              }}
            >
              Copy URL
            </button>
          </div>
        ) : (
          <p className="muted">Save the flow to get this node’s URL.</p>
        )}
      </div>

      <ProviderSection
        api={api}
        presets={props.presets}
        config={config}
        onChange={onChange}
        url={props.url}
        credentials={props.credentials}
        onCredentialCreated={props.onCredentialCreated}
      />

      <fieldset className="field">
        <legend>Methods</legend>
        <div className="method-list">
          {METHODS.map((m) => (
            <label key={m} className="field-inline">
              <input
                type="checkbox"
                checked={methods.includes(m)}
                onChange={(e) =>
                  onChange({
                    ...config,
                    methods: e.target.checked
                      ? METHODS.filter((x) => x === m || methods.includes(x))
                      : methods.filter((x) => x !== m),
                  })
                }
              />
              <span>{m}</span>
            </label>
          ))}
        </div>
      </fieldset>

      {!preset?.credential_type && (
        <SelectField
          label="Credential"
          value={auth.type === 'none' ? '' : (auth.credential_id ?? '')}
          options={[
            { value: '', label: 'None — anyone with the URL may call' },
            ...(knownCredential
              ? []
              : [{ value: auth.credential_id ?? '', label: `${auth.credential_id} (missing)` }]),
            ...credentialOptions.map((c) => ({ value: c.id, label: `${c.name} (${c.type})` })),
          ]}
          onChange={(id) => {
            const cred = credentialOptions.find((c) => c.id === id);
            onChange({
              ...config,
              auth: cred ? { type: cred.type, credential_id: cred.id } : { type: 'none' },
            });
          }}
          help={
            credentialOptions.length
              ? 'Requests that fail the check get 401 and start no run.'
              : 'Add one under Credentials to check callers.'
          }
        />
      )}

      <section className="panel-section">
        <h3>Sample</h3>
        <div className="tabs" role="tablist" aria-label="Sample source">
          {(
            [
              ['listen', 'Listen for a sample'],
              ['json', 'From JSON'],
              ['pairs', 'From key-value pairs'],
            ] as const
          ).map(([tab, label]) => (
            <button
              key={tab}
              type="button"
              role="tab"
              aria-selected={sampleTab === tab}
              className={`tab${sampleTab === tab ? ' tab-current' : ''}`}
              onClick={() => setSampleTab(tab)}
            >
              {label}
            </button>
          ))}
        </div>
        {sampleTab === 'listen' && (
          <Listener
            api={api}
            flowId={flowId}
            nodeId={nodeId}
            saved={props.saved}
            url={props.url}
            onCaptured={(s) => {
              if (s.request) setCaptured({ request: s.request, at: s.captured_at ?? null });
              applyFields(s.fields);
            }}
          />
        )}
        {sampleTab === 'json' && (
          <FromJson api={api} sampleUrl={sampleUrl} saved={props.saved} onFields={applyFields} />
        )}
        {sampleTab === 'pairs' && (
          <FromPairs api={api} sampleUrl={sampleUrl} saved={props.saved} onFields={applyFields} />
        )}
        {captured && (
          <details className="captured" open>
            <summary>
              Captured request: {captured.request.method}
              {captured.at ? ` at ${new Date(captured.at).toLocaleTimeString()}` : ''}
            </summary>
            <pre data-testid="captured-request">
              {JSON.stringify(
                {
                  headers: captured.request.headers,
                  query: captured.request.query,
                  body: captured.request.body,
                },
                null,
                2,
              )}
            </pre>
          </details>
        )}
      </section>

      <section className="panel-section">
        <h3>Fields</h3>
        <p className="muted">
          Saved as the node’s parameters with the flow. A request without a required field gets 400 and starts
          no run.
        </p>
        {parameters.length === 0 ? (
          <p className="muted empty-inline">No fields yet: take them from a sample, or add one below.</p>
        ) : (
          <table className="table fields-table">
            <thead>
              <tr>
                <th>Field</th>
                <th>Type</th>
                <th>Example</th>
                <th>Required</th>
                <th>
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {parameters.map((p, i) => {
                const name = `${p.source}.${p.path}`;
                const example = examples.get(keyOf(p));
                return (
                  <tr key={keyOf(p)}>
                    <td className="mono">{name}</td>
                    <td>
                      <select
                        aria-label={`Type of ${name}`}
                        value={p.type ?? 'any'}
                        onChange={(e) => setParam(i, { type: e.target.value })}
                      >
                        {PARAM_TYPES.map((t) => (
                          <option key={t} value={t}>
                            {t}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td className="mono example" title={example === undefined ? '' : JSON.stringify(example)}>
                      {example === undefined ? '' : JSON.stringify(example)}
                    </td>
                    <td>
                      <label className="switch">
                        <input
                          type="checkbox"
                          aria-label={`Required: ${name}`}
                          checked={p.required}
                          onChange={(e) => setParam(i, { required: e.target.checked })}
                        />
                        <span className="switch-track" aria-hidden="true" />
                      </label>
                    </td>
                    <td>
                      <button
                        type="button"
                        className="button button-small button-quiet"
                        aria-label={`Remove ${name}`}
                        onClick={() =>
                          onChange({ ...config, parameters: parameters.filter((_, j) => j !== i) })
                        }
                      >
                        ×
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <div className="add-field">
          <select
            aria-label="New field source"
            value={newParam.source}
            onChange={(e) => setNewParam({ ...newParam, source: e.target.value as Parameter['source'] })}
          >
            <option value="body">body</option>
            <option value="query">query</option>
            <option value="headers">headers</option>
          </select>
          <input
            aria-label="New field path"
            className="mono"
            placeholder="order.id"
            value={newParam.path}
            onChange={(e) => setNewParam({ ...newParam, path: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addParam();
              }
            }}
          />
          <button type="button" className="button button-small" onClick={addParam}>
            Add field
          </button>
        </div>
        <Toggle
          label="Also keep the whole raw body as text"
          checked={config.full_body_parameter === true}
          onChange={(v) => onChange({ ...config, full_body_parameter: v })}
        />
      </section>

      <section className="panel-section">
        <h3>Response</h3>
        <SelectField
          label="Response mode"
          value={String(response.mode ?? 'ack')}
          options={[
            { value: 'ack', label: 'Acknowledge at once (200 with the run id)' },
            { value: 'custom', label: 'Custom answer at once' },
            { value: 'flow', label: 'Wait for the flow’s Respond node' },
          ]}
          onChange={setMode}
        />
        {response.mode === 'custom' && (
          <>
            <NumberField
              label="Status"
              value={response.status as number | undefined}
              min={200}
              max={599}
              onChange={(v) => setResponse('status', v)}
            />
            <TextField
              label="Content type"
              template
              value={String(response.content_type ?? '')}
              onChange={(v) => setResponse('content_type', v || undefined)}
            />
            <KeyValueEditor
              label="Response headers"
              value={(response.headers as Record<string, unknown>) ?? {}}
              keyPlaceholder="x-header"
              valuePlaceholder="value"
              onChange={(h) => setResponse('headers', h)}
            />
            <BodyField label="Body" value={response.body} onChange={(b) => setResponse('body', b)} />
          </>
        )}
        {response.mode === 'flow' && (
          <>
            <NumberField
              label="Wait at most (ms)"
              value={response.timeout_ms as number | undefined}
              min={100}
              max={300000}
              onChange={(v) => setResponse('timeout_ms', v)}
              help="Then the caller gets the fallback (504 by default) while the run goes on."
            />
            <NumberField
              label="Fallback status"
              value={(response.fallback as { status?: number } | undefined)?.status}
              min={200}
              max={599}
              onChange={(v) =>
                setResponse(
                  'fallback',
                  v === undefined ? undefined : { ...((response.fallback as object) ?? {}), status: v },
                )
              }
            />
          </>
        )}
      </section>

      <section className="panel-section">
        <h3>GET verification</h3>
        {methods.includes('GET') ? (
          <p className="muted">GET starts runs here, so there is no verification answer.</p>
        ) : (
          <>
            <Toggle
              label="Answer GET with my own verification response"
              checked={verification !== undefined}
              onChange={(v) =>
                onChange(
                  withOptional(
                    config,
                    'verification',
                    v
                      ? {
                          status: 200,
                          content_type: 'text/plain',
                          body: "${Webhook::Query['hub.challenge']}",
                        }
                      : undefined,
                  ),
                )
              }
            />
            {verification ? (
              <>
                <NumberField
                  label="Verification status"
                  value={verification.status as number | undefined}
                  min={200}
                  max={599}
                  onChange={(v) =>
                    onChange({ ...config, verification: withOptional(verification, 'status', v) })
                  }
                />
                <TextField
                  label="Verification content type"
                  value={String(verification.content_type ?? '')}
                  onChange={(v) =>
                    onChange({
                      ...config,
                      verification: withOptional(verification, 'content_type', v || undefined),
                    })
                  }
                />
                <TextField
                  label="Verification body"
                  template
                  value={String(verification.body ?? '')}
                  onChange={(v) => onChange({ ...config, verification: { ...verification, body: v } })}
                  help="Echo a challenge: ${Webhook::Query.validationToken} or ${Webhook::Query['hub.challenge']}"
                />
              </>
            ) : (
              <p className="muted">GET gets 200 {'{"status":"ok"}'} and starts no run.</p>
            )}
          </>
        )}
      </section>

      <section className="panel-section">
        <h3>Duplicates</h3>
        <Toggle
          label="Answer a repeated idempotency key with the first answer"
          checked={idempotency !== undefined}
          onChange={(v) =>
            onChange(
              withOptional(
                config,
                'idempotency',
                v ? { header: 'Idempotency-Key', window_s: 86400 } : undefined,
              ),
            )
          }
        />
        {idempotency && (
          <>
            <TextField
              label="Idempotency header"
              value={idempotency.header ?? ''}
              onChange={(v) => onChange({ ...config, idempotency: { ...idempotency, header: v } })}
            />
            <NumberField
              label="Window (seconds)"
              value={idempotency.window_s}
              min={1}
              onChange={(v) => onChange({ ...config, idempotency: withOptional(idempotency, 'window_s', v) })}
            />
          </>
        )}
      </section>
    </>
  );
}

function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Opens the 3-minute window, counts it down and polls until the next request is captured. */
function Listener(props: {
  api: Api;
  flowId: string;
  nodeId: string;
  saved: boolean;
  url: string | undefined;
  onCaptured: (s: SampleAnswer) => void;
}) {
  const { api, flowId, nodeId, onCaptured } = props;
  const [deadline, setDeadline] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  const [state, setState] = useState<'idle' | 'listening' | 'captured' | 'expired'>('idle');
  const [error, setError] = useState<string | null>(null);
  const base = `/flows/${encodeURIComponent(flowId)}/nodes/${encodeURIComponent(nodeId)}`;
  const capturedRef = useRef(onCaptured);
  capturedRef.current = onCaptured;

  const start = async () => {
    setError(null);
    try {
      const r = await api<{ expires_at: string }>('POST', `${base}/listen`);
      setDeadline(Date.parse(r.expires_at));
      setNow(Date.now());
      setState('listening');
    } catch (err) {
      setError(errorText(err));
    }
  };

  useEffect(() => {
    if (state !== 'listening' || deadline === null) return;
    const opened = deadline - LISTEN_WINDOW_MS;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const s = await api<SampleAnswer>('GET', `${base}/sample`);
        if (stopped) return;
        const at = s.captured_at ? Date.parse(s.captured_at) : 0;
        if (s.status === 'captured' && s.request && at >= opened - 1000) {
          setState('captured');
          capturedRef.current(s);
          return;
        }
      } catch (err) {
        if (stopped) return;
        if (!(err instanceof ApiError && err.status === 404)) setError(errorText(err));
      }
      if (Date.now() >= deadline) {
        setState('expired');
        return;
      }
      timer = setTimeout(poll, 1000);
    };
    timer = setTimeout(poll, 500);
    return () => {
      stopped = true;
      clearInterval(tick);
      clearTimeout(timer);
    };
  }, [state, deadline, api, base]);

  if (!props.saved)
    return <p className="muted">Save the flow first: the sample is sent to this node’s URL.</p>;
  return (
    <div className="listener">
      {state === 'listening' && deadline !== null ? (
        <div className="listening" role="status">
          <span className="pulse" aria-hidden="true" />
          <span>
            Listening… send a request to the URL above.{' '}
            <strong data-testid="countdown">{formatCountdown(deadline - now)}</strong> left
          </span>
          <button type="button" className="button button-small" onClick={() => setState('idle')}>
            Stop
          </button>
        </div>
      ) : (
        <>
          <button type="button" className="button" onClick={start}>
            {state === 'idle' ? 'Listen for a sample' : 'Listen again'}
          </button>
          {state === 'captured' && <p className="ok-text">Sample captured; its fields are below.</p>}
          {state === 'expired' && <p className="muted">No request arrived in 3 minutes.</p>}
        </>
      )}
      <p className="muted">
        The next request to this URL, GET or POST, is captured (even one that would fail the checks) and
        answered 200.
      </p>
      {error && <p className="form-error">{error}</p>}
    </div>
  );
}

type DeriveProps = { api: Api; sampleUrl: string; saved: boolean; onFields: (f: Field[]) => void };

/** Sends a sample (`{json}` or `{pairs}`) to the node's sample route; hands on its fields, or returns the API's error. */
async function deriveFields(props: DeriveProps, sample: unknown): Promise<string | null> {
  try {
    const r = await props.api<{ fields: Field[] }>('POST', props.sampleUrl, sample);
    props.onFields(r.fields);
    return null;
  } catch (err) {
    return errorText(err);
  }
}

function FromJson(props: DeriveProps) {
  const id = useId();
  const [text, setText] = useState('{\n  "order": { "id": "A-1", "total": 12.5 }\n}');
  const [error, setError] = useState<string | null>(null);
  const derive = async () => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      setError(`That is not JSON: ${errorText(err)}`);
      return;
    }
    setError(await deriveFields(props, { json }));
  };
  if (!props.saved) return <p className="muted">Save the flow first.</p>;
  return (
    <div className="field">
      <label htmlFor={id}>Sample body (JSON)</label>
      <textarea
        id={id}
        className="mono"
        rows={6}
        value={text}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="button" className="button button-small" onClick={derive}>
        Derive fields
      </button>
      {error && <p className="form-error">{error}</p>}
    </div>
  );
}

function FromPairs(props: DeriveProps) {
  const [pairs, setPairs] = useState<{ key: string; value: string }[]>([{ key: 'order.id', value: 'A-1' }]);
  const [error, setError] = useState<string | null>(null);
  const derive = async () => {
    const filled = pairs.filter((p) => p.key.trim());
    if (!filled.length) {
      setError('Add at least one key');
      return;
    }
    setError(await deriveFields(props, { pairs: filled }));
  };
  if (!props.saved) return <p className="muted">Save the flow first.</p>;
  return (
    <div className="field">
      {pairs.map((p, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
        <div className="kv-row" key={i}>
          <input
            aria-label={`Pair ${i + 1} key`}
            className="mono"
            value={p.key}
            onChange={(e) => setPairs(pairs.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))}
          />
          <input
            aria-label={`Pair ${i + 1} value`}
            className="mono"
            value={p.value}
            onChange={(e) => setPairs(pairs.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
          />
          <button
            type="button"
            className="button button-small button-quiet"
            aria-label={`Remove pair ${i + 1}`}
            onClick={() => setPairs(pairs.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <div className="row-actions">
        <button
          type="button"
          className="button button-small"
          onClick={() => setPairs([...pairs, { key: '', value: '' }])}
        >
          Add pair
        </button>
        <button type="button" className="button button-small" onClick={derive}>
          Derive fields
        </button>
      </div>
      {error && <p className="form-error">{error}</p>}
    </div>
  );
}
