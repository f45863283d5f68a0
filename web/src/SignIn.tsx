import { type FormEvent, useState } from 'react';
import { checkKey, errorText } from './api.ts';

export function SignIn(props: { onSignedIn: (key: string) => void; notice?: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return setError('Enter an API key');
    setBusy(true);
    setError(null);
    try {
      await checkKey(trimmed);
      props.onSignedIn(trimmed);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} aria-label="Sign in">
        <div className="brand brand-large">Hookflow</div>
        <h1>Sign in</h1>
        <p className="muted">
          Use an API key of your tenant. The first start of Hookflow prints the admin key once (or set{' '}
          <code>HOOKFLOW_BOOTSTRAP_KEY</code>).
        </p>
        {props.notice && !error && <p className="notice">{props.notice}</p>}
        <label className="field">
          <span>API key</span>
          <input
            type="password"
            name="api-key"
            autoComplete="off"
            // biome-ignore lint/a11y/noAutofocus: the only thing to do on this screen
            autoFocus
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary button-wide" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
