/**
 * Credentials: the secrets webhook nodes check inbound requests with (and SMTP for mail). Created
 * here, stored encrypted by the API and never shown again: the list has name, type and the last
 * four characters only. Delete asks first.
 */
import { useCallback, useEffect, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { DeleteDialog, Dialog } from '../Dialog.tsx';
import { formatTime } from '../format.ts';
import { useToast } from '../toasts.tsx';

export type Credential = {
  id: string;
  name: string;
  type: string;
  hint: string;
  created_at: string;
  updated_at: string;
};

type Field = {
  key: string;
  label: string;
  kind: 'text' | 'secret' | 'number' | 'checkbox' | 'select';
  options?: string[];
  initial?: string;
  optional?: boolean;
  help?: string;
};

/** The form of each type's `data` (docs/api.md §6.1); the API validates and names what is wrong. */
const TYPES: Record<string, { label: string; fields: Field[] }> = {
  basic: {
    label: 'Basic auth',
    fields: [
      { key: 'username', label: 'Username', kind: 'text' },
      { key: 'password', label: 'Password', kind: 'secret' },
    ],
  },
  bearer: { label: 'Bearer token', fields: [{ key: 'token', label: 'Token', kind: 'secret' }] },
  api_key: {
    label: 'API key',
    fields: [
      { key: 'in', label: 'Sent in', kind: 'select', options: ['header', 'query'], initial: 'header' },
      { key: 'name', label: 'Header or parameter name', kind: 'text', initial: 'X-API-Key' },
      { key: 'value', label: 'Value', kind: 'secret' },
    ],
  },
  hmac: {
    label: 'HMAC signature',
    fields: [
      { key: 'secret', label: 'Secret', kind: 'secret' },
      { key: 'header', label: 'Signature header', kind: 'text', initial: 'X-Signature' },
      { key: 'algorithm', label: 'Algorithm', kind: 'select', options: ['sha256', 'sha1', 'sha512'] },
      { key: 'encoding', label: 'Encoding', kind: 'select', options: ['hex', 'base64'] },
      { key: 'prefix', label: 'Prefix', kind: 'text', optional: true, help: 'e.g. sha256=' },
    ],
  },
  github: { label: 'GitHub webhook secret', fields: [{ key: 'secret', label: 'Secret', kind: 'secret' }] },
  stripe: {
    label: 'Stripe signing secret',
    fields: [{ key: 'secret', label: 'Signing secret (whsec_…)', kind: 'secret' }],
  },
  standard_webhooks: {
    label: 'Standard Webhooks / Svix secret',
    fields: [{ key: 'secret', label: 'Secret (whsec_…)', kind: 'secret' }],
  },
  gitlab: { label: 'GitLab secret token', fields: [{ key: 'token', label: 'Secret token', kind: 'secret' }] },
  slack: {
    label: 'Slack signing secret',
    fields: [{ key: 'secret', label: 'Signing secret', kind: 'secret' }],
  },
  shopify: {
    label: 'Shopify webhook secret',
    fields: [{ key: 'secret', label: 'Client secret / webhook signing secret', kind: 'secret' }],
  },
  twilio: {
    label: 'Twilio auth token',
    fields: [{ key: 'auth_token', label: 'Auth token', kind: 'secret' }],
  },
  meta: {
    label: 'Meta (Facebook, Instagram, WhatsApp) app',
    fields: [
      { key: 'app_secret', label: 'App secret', kind: 'secret' },
      {
        key: 'verify_token',
        label: 'Verify token',
        kind: 'secret',
        help: 'the token you type into the webhook settings of the Meta app',
      },
    ],
  },
  zoom: { label: 'Zoom secret token', fields: [{ key: 'secret', label: 'Secret token', kind: 'secret' }] },
  x: {
    label: 'X (Twitter) consumer secret',
    fields: [{ key: 'consumer_secret', label: 'Consumer secret', kind: 'secret' }],
  },
  dropbox: {
    label: 'Dropbox app secret',
    fields: [{ key: 'app_secret', label: 'App secret', kind: 'secret' }],
  },
  linear: {
    label: 'Linear signing secret',
    fields: [{ key: 'secret', label: 'Signing secret', kind: 'secret' }],
  },
  square: {
    label: 'Square signature key',
    fields: [{ key: 'signature_key', label: 'Signature key', kind: 'secret' }],
  },
  smtp: {
    label: 'SMTP server',
    fields: [
      { key: 'host', label: 'Host', kind: 'text' },
      { key: 'port', label: 'Port', kind: 'number', initial: '587' },
      { key: 'secure', label: 'TLS from the start (port 465)', kind: 'checkbox' },
      { key: 'username', label: 'Username', kind: 'text', optional: true },
      { key: 'password', label: 'Password', kind: 'secret', optional: true },
      { key: 'from', label: 'From address', kind: 'text', optional: true },
    ],
  },
};

const initialValues = (type: string): Record<string, string> =>
  Object.fromEntries(TYPES[type].fields.map((f) => [f.key, f.initial ?? f.options?.[0] ?? '']));

/** The `data` the API expects: numbers and booleans as such, empty optional fields left out. */
function dataOf(type: string, values: Record<string, string>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const f of TYPES[type].fields) {
    const v = values[f.key] ?? '';
    if (f.kind === 'checkbox') data[f.key] = v === 'true';
    else if (f.optional && v === '') continue;
    else if (f.kind === 'number') data[f.key] = v === '' ? undefined : Number(v);
    else data[f.key] = v;
  }
  return data;
}

export function CredentialsPage({ api }: { api: Api }) {
  const toast = useToast();
  const [items, setItems] = useState<Credential[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const [type, setType] = useState('basic');
  const [values, setValues] = useState<Record<string, string>>(initialValues('basic'));
  const [addError, setAddError] = useState<string | null>(null);
  const [addBusy, setAddBusy] = useState(false);
  const [deleting, setDeleting] = useState<Credential | null>(null);

  const load = useCallback(async () => {
    try {
      const page = await api<{ data: Credential[] }>('GET', '/credentials');
      setItems(page.data);
      setLoadError(null);
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const openAdd = () => {
    setName('');
    setType('basic');
    setValues(initialValues('basic'));
    setAddError(null);
    setAdding(true);
  };
  const chooseType = (t: string) => {
    setType(t);
    setValues(initialValues(t));
    setAddError(null);
  };
  const add = async () => {
    if (!name.trim()) return setAddError('Give the credential a name');
    setAddBusy(true);
    try {
      const created = await api<Credential>('POST', '/credentials', {
        name: name.trim(),
        type,
        data: dataOf(type, values),
      });
      setAdding(false);
      // The secret is not kept anywhere in the page once the form closes.
      setValues(initialValues(type));
      toast.success(`Credential “${created.name}” saved`);
      await load();
    } catch (err) {
      setAddError(errorText(err));
    } finally {
      setAddBusy(false);
    }
  };

  return (
    <section aria-labelledby="credentials-title">
      <header className="page-header">
        <div>
          <h1 id="credentials-title">Credentials</h1>
          <p className="muted">
            Secrets that webhook nodes check inbound requests with. They are stored encrypted and never shown
            again — only their last four characters.
          </p>
        </div>
        <button type="button" className="button button-primary" onClick={openAdd}>
          Add credential
        </button>
      </header>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load credentials: {loadError}</span>
          <button type="button" className="button" onClick={() => load()}>
            Try again
          </button>
        </div>
      )}

      {items === null && !loadError && <p className="muted">Loading credentials…</p>}

      {items !== null && items.length === 0 && (
        <div className="empty">
          <h2>No credentials yet</h2>
          <p className="muted">
            Add the secret a sender signs with (GitHub, Stripe, Standard Webhooks, HMAC) or the password it
            sends, then pick it in a webhook node.
          </p>
          <button type="button" className="button button-primary" onClick={openAdd}>
            Add your first credential
          </button>
        </div>
      )}

      {items !== null && items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Credentials">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Secret</th>
                <th>ID</th>
                <th>Created</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id} data-credential-id={c.id}>
                  <td className="cell-name">{c.name}</td>
                  <td>{TYPES[c.type]?.label ?? c.type}</td>
                  <td>
                    <code>{`••••${c.hint.replace(/^…/, '')}`}</code>
                  </td>
                  <td>
                    <code>{c.id}</code>
                  </td>
                  <td className="cell-time">{formatTime(c.created_at)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="button button-small button-danger-quiet"
                      aria-label={`Delete ${c.name}`}
                      onClick={() => setDeleting(c)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Dialog
        title="Add credential"
        open={adding}
        onClose={() => setAdding(false)}
        onSubmit={add}
        submitLabel={addBusy ? 'Saving…' : 'Save credential'}
        busy={addBusy}
      >
        <label className="field">
          <span>Name</span>
          <input name="credential-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="field">
          <label htmlFor="credential-type">
            <span>Type</span>
          </label>
          <select id="credential-type" value={type} onChange={(e) => chooseType(e.target.value)}>
            {Object.entries(TYPES).map(([t, d]) => (
              <option key={t} value={t}>
                {d.label}
              </option>
            ))}
          </select>
        </div>
        {TYPES[type].fields.map((f) =>
          f.kind === 'checkbox' ? (
            <label key={`${type}.${f.key}`} className="field field-inline">
              <input
                type="checkbox"
                checked={values[f.key] === 'true'}
                onChange={(e) => setValues((v) => ({ ...v, [f.key]: String(e.target.checked) }))}
              />
              <span>{f.label}</span>
            </label>
          ) : (
            <div key={`${type}.${f.key}`} className="field">
              <label htmlFor={`credential-${f.key}`}>
                <span>
                  {f.label}
                  {f.optional && <span className="muted"> (optional)</span>}
                </span>
              </label>
              {f.kind === 'select' ? (
                <select
                  id={`credential-${f.key}`}
                  value={values[f.key]}
                  onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
                >
                  {f.options?.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={`credential-${f.key}`}
                  type={f.kind === 'secret' ? 'password' : f.kind === 'number' ? 'number' : 'text'}
                  autoComplete={f.kind === 'secret' ? 'new-password' : 'off'}
                  placeholder={f.help}
                  value={values[f.key] ?? ''}
                  onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
                />
              )}
            </div>
          ),
        )}
        {addError && (
          <p className="form-error" role="alert">
            {addError}
          </p>
        )}
      </Dialog>

      <DeleteDialog
        api={api}
        noun="credential"
        item={deleting}
        path={(c) => `/credentials/${encodeURIComponent(c.id)}`}
        onClose={() => setDeleting(null)}
        onDeleted={(c) => setItems((all) => all?.filter((x) => x.id !== c.id) ?? null)}
      >
        {() => 'Webhook nodes that use it refuse their requests until they are given another credential.'}
      </DeleteDialog>
    </section>
  );
}
