/**
 * Settings of the signed-in key's tenant: the IP allowlist for inbound webhooks, how long delivered
 * messages and finished runs are kept, how many runs may run at once, and who is mailed about failures. Saved with PATCH /api/v1/settings; the
 * API's own sentence is shown when it refuses a value.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { useToast } from '../toasts.tsx';

export type Settings = {
  ip_allowlist: string[];
  retention_days: number;
  /** null: finished runs are kept for good. */
  run_retention_days: number | null;
  /** null: no cap on the tenant's runs at once. */
  max_concurrent_runs: number | null;
  notify: { emails: string[] };
};

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A retention in whole days, 1–3650 as the API takes it. */
function DaysInput(props: {
  id: string;
  label: string;
  value: string;
  disabled?: boolean;
  onChange: (value: string) => void;
}) {
  return (
    <>
      <label htmlFor={props.id}>
        <span>{props.label}</span>
      </label>
      <input
        id={props.id}
        type="number"
        min={1}
        max={3650}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </>
  );
}

export function SettingsPage({ api }: { api: Api }) {
  const toast = useToast();
  const [loaded, setLoaded] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [allowlist, setAllowlist] = useState('');
  const [retention, setRetention] = useState('30');
  const [runRetention, setRunRetention] = useState('30');
  const [keepRuns, setKeepRuns] = useState(false);
  const [maxRuns, setMaxRuns] = useState('');
  const [emails, setEmails] = useState('');
  const [saveError, setSaveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = useCallback((s: Settings) => {
    setLoaded(s);
    setAllowlist(s.ip_allowlist.join('\n'));
    setRetention(String(s.retention_days));
    setKeepRuns(s.run_retention_days === null);
    setRunRetention(String(s.run_retention_days ?? 30));
    setMaxRuns(s.max_concurrent_runs === null ? '' : String(s.max_concurrent_runs));
    setEmails(s.notify.emails.join('\n'));
  }, []);

  const load = useCallback(async () => {
    try {
      show(await api<Settings>('GET', '/settings'));
      setLoadError(null);
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [api, show]);

  useEffect(() => {
    void load();
  }, [load]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const days = Number(retention);
    if (!Number.isInteger(days)) return setSaveError('Retention is a whole number of days');
    const runDays = Number(runRetention);
    if (!keepRuns && (runRetention.trim() === '' || !Number.isInteger(runDays)))
      return setSaveError('Run retention is a whole number of days');
    const maxConcurrent = maxRuns.trim() === '' ? null : Number(maxRuns);
    if (maxConcurrent !== null && !Number.isInteger(maxConcurrent))
      return setSaveError('Max concurrent runs is a whole number, or empty for no cap');
    setBusy(true);
    try {
      const saved = await api<Settings>('PATCH', '/settings', {
        ip_allowlist: lines(allowlist),
        retention_days: days,
        run_retention_days: keepRuns ? null : runDays,
        max_concurrent_runs: maxConcurrent,
        notify: { emails: lines(emails) },
      });
      show(saved);
      setSaveError(null);
      toast.success('Settings saved');
    } catch (err) {
      setSaveError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="settings-title">
      <header className="page-header">
        <div>
          <h1 id="settings-title">Settings</h1>
          <p className="muted">For every flow and endpoint of this tenant.</p>
        </div>
      </header>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load the settings: {loadError}</span>
          <button type="button" className="button" onClick={() => load()}>
            Try again
          </button>
        </div>
      )}
      {loaded === null && !loadError && <p className="muted">Loading settings…</p>}

      {loaded !== null && (
        <form className="settings-form" onSubmit={save}>
          <div className="field">
            <label htmlFor="settings-allowlist">
              <span>IP allowlist for inbound webhooks</span>
            </label>
            <textarea
              id="settings-allowlist"
              rows={5}
              placeholder={'203.0.113.0/24\n2001:db8::/32'}
              value={allowlist}
              onChange={(e) => setAllowlist(e.target.value)}
            />
            <p className="muted">
              One address or CIDR range a line. Empty: webhooks are accepted from anywhere. A request from
              elsewhere is answered 403 and starts no run.
            </p>
          </div>
          <div className="field">
            <DaysInput
              id="settings-retention"
              label="Keep delivered messages for (days)"
              value={retention}
              onChange={setRetention}
            />
          </div>
          <div className="field">
            <DaysInput
              id="settings-run-retention"
              label="Keep finished runs for (days)"
              value={runRetention}
              disabled={keepRuns}
              onChange={setRunRetention}
            />
            <label className="field field-inline">
              <input type="checkbox" checked={keepRuns} onChange={(e) => setKeepRuns(e.target.checked)} />
              <span>Keep finished runs for good</span>
            </label>
            <p className="muted">
              Runs still queued or running are never removed; older finished runs go with their step records.
            </p>
          </div>
          <div className="field">
            <label htmlFor="settings-max-runs">
              <span>Max concurrent runs</span>
            </label>
            <input
              id="settings-max-runs"
              type="number"
              min={1}
              max={10000}
              placeholder="No cap"
              value={maxRuns}
              onChange={(e) => setMaxRuns(e.target.value)}
            />
            <p className="muted">
              How many of this tenant's runs may run at once, across all workers (1–10000). Empty: no cap. The
              rest wait queued and start as runs end.
            </p>
          </div>
          <div className="field">
            <label htmlFor="settings-emails">
              <span>Notify by e-mail (endpoint disabled, failed runs)</span>
            </label>
            <textarea
              id="settings-emails"
              rows={3}
              placeholder="ops@example.com"
              value={emails}
              onChange={(e) => setEmails(e.target.value)}
            />
          </div>
          {saveError && (
            <p className="form-error" role="alert">
              {saveError}
            </p>
          )}
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </form>
      )}
    </section>
  );
}
