/** The flow's own settings, shown when no node is selected: name, enabled, completion and notices. */
import { useEffect, useState } from 'react';
import type { Api, Flow, Page } from '../../api.ts';
import type { FlowSettings } from '../document.ts';
import { NumberField, SelectField, TextField, Toggle } from './fields.tsx';

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
  /** For the error flow picker: the tenant's flows, this one left out. */
  api?: Api;
  flowId?: string;
}) {
  const { settings, onSettings } = props;
  const [failure, setFailure] = useState(settings.notify.on_failure.join(', '));
  const [success, setSuccess] = useState(settings.notify.on_success.join(', '));
  const flows = useFlows(props.api);
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
      <ErrorFlowPicker
        value={settings.error_flow_id ?? null}
        flows={flows}
        flowId={props.flowId}
        onChange={(v) => onSettings({ ...settings, error_flow_id: v })}
      />
    </div>
  );
}

/** The tenant's flows (the first 500), or null while they load (or when they could not be read). */
function useFlows(api: Api | undefined): Flow[] | null {
  const [flows, setFlows] = useState<Flow[] | null>(null);
  useEffect(() => {
    if (!api) return;
    let live = true;
    api<Page<Flow>>('GET', '/flows?limit=500')
      .then((p) => live && setFlows(p.data))
      .catch(() => live && setFlows(null));
    return () => {
      live = false;
    };
  }, [api]);
  return flows;
}

/** Settings `error_flow_id` (docs/api.md §4.4): none, or another flow of the tenant. */
function ErrorFlowPicker(props: {
  value: string | null;
  flows: Flow[] | null;
  flowId?: string;
  onChange: (v: string | null) => void;
}) {
  const { value, flows, flowId } = props;
  const others = (flows ?? []).filter((f) => f.id !== flowId);
  const known = !value || others.some((f) => f.id === value);
  const label = (id: string) => (id === flowId ? 'This flow' : flows ? `${id} (missing)` : id);
  return (
    <SelectField
      label="Error flow"
      value={value ?? ''}
      options={[
        { value: '', label: 'None' },
        ...(known ? [] : [{ value: value ?? '', label: label(value ?? '') }]),
        ...others.map((f) => ({
          value: f.id,
          label: `${f.name} (${f.id})${f.enabled ? '' : ' — disabled'}`,
        })),
      ]}
      onChange={(v) => props.onChange(v || null)}
      help="When a run of this flow fails, a run of that flow starts from its first webhook with the failed run in ${Webhook::Body.run} and method ERROR."
    />
  );
}
