/**
 * The webhook panel's provider part (docs/api.md §3.10): a searchable list of the provider presets
 * from GET /api/v1/presets. Choosing one names it on the node, shows the steps to follow at the
 * provider with the URL to give it, and takes the provider's secret into a new credential of the
 * preset's type (or picks one already made), which then checks the node's callers.
 */
import { useId, useMemo, useState } from 'react';
import { type Api, errorText } from '../../api.ts';
import { copyText } from '../../clipboard.ts';
import { useToast } from '../../toasts.tsx';
import type { Config } from '../document.ts';
import { TextField } from './fields.tsx';

/** One entry of GET /api/v1/presets. */
export type PresetInfo = {
  id: string;
  name: string;
  credential_type: string | null;
  secret_fields: { key: string; label: string }[];
  headers: string[];
  handshake: string | null;
  dedupe: string | null;
  docs_url: string;
  setup: string[];
};

export type CredentialSummary = { id: string; name: string; type: string };

/** A URL the provider's servers cannot reach: a loopback or `.localhost` host. */
function isLocalUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function ProviderSection(props: {
  api: Api;
  presets: PresetInfo[];
  config: Config;
  onChange: (c: Config) => void;
  url: string | undefined;
  credentials: CredentialSummary[];
  onCredentialCreated: (c: CredentialSummary) => void;
}) {
  const { config, onChange, presets } = props;
  const toast = useToast();
  const presetId = typeof config.preset === 'string' ? config.preset : undefined;
  const preset = presets.find((p) => p.id === presetId);
  const [choosing, setChoosing] = useState(false);

  const choose = (p: PresetInfo) => {
    setChoosing(false);
    const auth = config.auth as { type?: string; credential_id?: string } | undefined;
    // The credential stays when it is of the preset's type (or the preset takes any); otherwise the
    // preset's own credential is picked below, and saving without one says so on the node.
    const keep = !p.credential_type || auth?.type === p.credential_type;
    const ofType = props.credentials.filter((c) => c.type === p.credential_type);
    const next: Config = { ...config, preset: p.id };
    if (!keep)
      next.auth =
        ofType.length === 1 ? { type: p.credential_type, credential_id: ofType[0]?.id } : { type: 'none' };
    onChange(next);
  };

  if (!preset || choosing)
    return (
      <section className="panel-section" aria-label="Provider">
        <h3>Provider</h3>
        {presetId && !preset && !choosing && (
          <p className="form-error">
            This node names the preset “{presetId}”, which this server does not know.
          </p>
        )}
        <PresetList
          presets={presets}
          current={presetId}
          onChoose={choose}
          onCancel={preset ? () => setChoosing(false) : undefined}
        />
      </section>
    );

  const copyUrl = async () => {
    if (await copyText(props.url ?? '')) toast.success('URL copied');
    else toast.error('Could not copy; select the URL and copy it by hand');
  };

  return (
    <section className="panel-section provider" aria-label="Provider">
      <div className="provider-head">
        <h3>
          Provider: <span data-testid="preset-name">{preset.name}</span>
        </h3>
        <div className="row-actions">
          <button type="button" className="button button-small" onClick={() => setChoosing(true)}>
            Change
          </button>
          <button
            type="button"
            className="button button-small button-quiet"
            onClick={() => {
              const { preset: _dropped, ...rest } = config;
              onChange(rest);
            }}
          >
            No provider
          </button>
        </div>
      </div>

      <ol className="setup-steps" aria-label={`Setting up ${preset.name}`}>
        {preset.setup.map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ol>

      <div className="field">
        <span className="field-label">URL to give {preset.name}</span>
        {props.url ? (
          <>
            <div className="url-copy">
              <code className="url" data-testid="provider-url">
                {props.url}
              </code>
              <button type="button" className="button button-small" onClick={copyUrl}>
                Copy
              </button>
            </div>
            {isLocalUrl(props.url) && (
              <small className="muted">
                This address is local: {preset.name} cannot reach it. Set PUBLIC_URL to the address the
                internet reaches Hookflow at.
              </small>
            )}
          </>
        ) : (
          <p className="muted">Save the flow to get the URL.</p>
        )}
      </div>

      {preset.credential_type ? (
        <PresetCredential
          api={props.api}
          preset={preset}
          config={config}
          onChange={onChange}
          credentials={props.credentials}
          onCredentialCreated={props.onCredentialCreated}
        />
      ) : (
        <p className="muted">
          No secret to paste: {preset.name} signs nothing Hookflow can check. To refuse strangers, choose an
          API key credential below.
        </p>
      )}

      <dl className="provider-facts">
        {preset.handshake && (
          <>
            <dt>Handshake</dt>
            <dd>{preset.handshake} — no run is started.</dd>
          </>
        )}
        <dt>Duplicates</dt>
        <dd>
          {preset.dedupe
            ? `A delivery whose ${preset.dedupe} was seen in the last 24 h gets the first answer and starts no run.`
            : `${preset.name} sends no delivery id: every delivery starts a run.`}
        </dd>
        {preset.headers.length > 0 && (
          <>
            <dt>Headers it sends</dt>
            <dd className="mono">{preset.headers.join(', ')}</dd>
          </>
        )}
      </dl>
      <a href={preset.docs_url} target="_blank" rel="noreferrer">
        {preset.name}’s documentation
      </a>
    </section>
  );
}

function PresetList(props: {
  presets: PresetInfo[];
  current: string | undefined;
  onChoose: (p: PresetInfo) => void;
  onCancel?: () => void;
}) {
  const [query, setQuery] = useState('');
  const searchId = useId();
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return q
      ? props.presets.filter((p) => `${p.name} ${p.id.replace(/_/g, ' ')}`.toLowerCase().includes(q))
      : props.presets;
  }, [props.presets, query]);
  return (
    <div className="field">
      <label htmlFor={searchId}>Receive from a provider</label>
      <input
        id={searchId}
        type="search"
        placeholder="Search: Slack, Stripe, Twilio…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          const first = shown[0];
          if (e.key === 'Enter' && first) {
            e.preventDefault();
            props.onChoose(first);
          }
        }}
      />
      <small className="muted">
        A provider’s preset checks its signature, answers its handshake and drops its repeated deliveries.
      </small>
      {props.presets.length === 0 ? (
        <p className="muted">The provider list could not be loaded.</p>
      ) : shown.length === 0 ? (
        <p className="muted empty-inline">No provider matches “{query}”.</p>
      ) : (
        <ul className="picker-list preset-list" aria-label="Providers">
          {shown.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                className={`picker-item${p.id === props.current ? ' picker-item-active' : ''}`}
                onClick={() => props.onChoose(p)}
              >
                <span>{p.name}</span>
                <span className="muted">
                  {p.handshake ?? (p.dedupe ? `de-duplicated on ${p.dedupe}` : '')}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.onCancel && (
        <button type="button" className="button button-small button-quiet" onClick={props.onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}

/** The credential of the preset's type: one already made, or a new one from the secret pasted here. */
function PresetCredential(props: {
  api: Api;
  preset: PresetInfo;
  config: Config;
  onChange: (c: Config) => void;
  credentials: CredentialSummary[];
  onCredentialCreated: (c: CredentialSummary) => void;
}) {
  const { preset, config, onChange } = props;
  const toast = useToast();
  const selectId = useId();
  const type = preset.credential_type as string;
  const auth = config.auth as { type?: string; credential_id?: string } | undefined;
  const ofType = props.credentials.filter((c) => c.type === type);
  const current = auth?.type === type ? auth.credential_id : undefined;
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState(`${preset.name} secret`);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const showForm = adding || ofType.length === 0;

  const create = async () => {
    const missing = preset.secret_fields.filter((f) => !values[f.key]?.trim());
    if (missing.length) {
      setError(`Paste the ${missing.map((f) => f.label.toLowerCase()).join(' and the ')} first`);
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const made = await props.api<CredentialSummary>('POST', '/credentials', {
        name: name.trim() || `${preset.name} secret`,
        type,
        data: Object.fromEntries(preset.secret_fields.map((f) => [f.key, values[f.key]?.trim()])),
      });
      props.onCredentialCreated(made);
      onChange({ ...config, auth: { type, credential_id: made.id } });
      setValues({});
      setAdding(false);
      toast.success(`Credential “${made.name}” saved; save the flow to use it`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="provider-credential">
      {ofType.length > 0 && (
        <div className="field">
          <label htmlFor={selectId}>{preset.name} credential</label>
          <select
            id={selectId}
            value={current ?? ''}
            onChange={(e) =>
              onChange({
                ...config,
                auth: e.target.value ? { type, credential_id: e.target.value } : { type: 'none' },
              })
            }
          >
            <option value="">Choose one…</option>
            {ofType.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          {!current && <small className="field-error">Choose or add a credential: saving needs one.</small>}
        </div>
      )}
      {showForm ? (
        <fieldset className="inline-credential">
          <legend>New {preset.name} credential</legend>
          <TextField label="Credential name" value={name} onChange={setName} />
          {preset.secret_fields.map((f) => (
            <TextField
              key={f.key}
              secret
              mono
              label={f.label}
              value={values[f.key] ?? ''}
              onChange={(v) => setValues({ ...values, [f.key]: v })}
            />
          ))}
          <small className="muted">Stored encrypted and never shown again.</small>
          {error && <p className="form-error">{error}</p>}
          <div className="row-actions">
            <button type="button" className="button button-small" disabled={busy} onClick={create}>
              Create credential
            </button>
            {ofType.length > 0 && (
              <button
                type="button"
                className="button button-small button-quiet"
                onClick={() => setAdding(false)}
              >
                Cancel
              </button>
            )}
          </div>
        </fieldset>
      ) : (
        <button type="button" className="button button-small" onClick={() => setAdding(true)}>
          Add another {preset.name} credential
        </button>
      )}
    </div>
  );
}
