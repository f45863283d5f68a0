/** The flow's own settings, shown when no node is selected: name, enabled, completion and notices. */
import { useState } from 'react';
import type { FlowSettings } from '../document.ts';
import { NumberField, TextField, Toggle } from './fields.tsx';

const splitEmails = (s: string) =>
  s
    .split(/[\s,;]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function FlowSettingsPanel(props: {
  name: string;
  enabled: boolean;
  settings: FlowSettings;
  onName: (v: string) => void;
  onEnabled: (v: boolean) => void;
  onSettings: (s: FlowSettings) => void;
}) {
  const { settings, onSettings } = props;
  const [failure, setFailure] = useState(settings.notify.on_failure.join(', '));
  const [success, setSuccess] = useState(settings.notify.on_success.join(', '));
  return (
    <div>
      <h2>Flow settings</h2>
      <p className="muted">Select a node to edit it.</p>
      <TextField label="Flow name" value={props.name} onChange={props.onName} />
      <Toggle
        label="Enabled (a disabled flow’s URL answers 404)"
        checked={props.enabled}
        onChange={props.onEnabled}
      />
      <Toggle
        label="Send each finished run to the default outbound webhook"
        checked={settings.send_to_default_webhook}
        onChange={(v) => onSettings({ ...settings, send_to_default_webhook: v })}
      />
      <TextField
        label="E-mail on failure"
        value={failure}
        placeholder="ops@example.com"
        onChange={(v) => {
          setFailure(v);
          onSettings({ ...settings, notify: { ...settings.notify, on_failure: splitEmails(v) } });
        }}
        help="Addresses separated by commas."
      />
      <TextField
        label="E-mail on success"
        value={success}
        onChange={(v) => {
          setSuccess(v);
          onSettings({ ...settings, notify: { ...settings.notify, on_success: splitEmails(v) } });
        }}
      />
      <NumberField
        label="Runs at once (empty = no limit)"
        value={settings.max_concurrency ?? undefined}
        min={1}
        onChange={(v) => onSettings({ ...settings, max_concurrency: v ?? null })}
      />
      <NumberField
        label="Run timeout (ms)"
        value={settings.timeout_ms}
        min={1000}
        onChange={(v) => onSettings({ ...settings, timeout_ms: v ?? 300000 })}
      />
    </div>
  );
}
