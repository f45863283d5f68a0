/** The settings of every node type but the webhook trigger (docs/api.md §4.3's config table). */
import type { Config, NodeType } from '../document.ts';
import { BodyField, KeyValueEditor, NumberField, SelectField, TextField, Toggle } from './fields.tsx';

export type PanelContext = {
  credentials: { id: string; name: string; type: string }[];
  endpoints: { id: string; name: string; url: string }[];
  eventTypes: string[];
  /** Outgoing edges of this node with their `when` (switch cases are edited here). */
  outgoing: { id: string; target: string; when?: boolean | string }[];
  setWhen: (edgeId: string, when: string) => void;
};

type Props = { config: Config; onChange: (c: Config) => void; ctx: PanelContext };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => ({ value: m, label: m }));
const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function SetPanel({ config, onChange }: Props) {
  return (
    <KeyValueEditor
      label="Values"
      value={(config.values as Record<string, unknown>) ?? {}}
      keyPlaceholder="vars.name or flow.key.name"
      valuePlaceholder="${Webhook::Body.name}"
      onChange={(values) => onChange({ ...config, values })}
      help="Keys are vars.<name> (this run) or flow.key.<name>; values are templates."
    />
  );
}

function IfPanel({ config, onChange }: Props) {
  return (
    <TextField
      label="Condition"
      template
      value={str(config.condition)}
      onChange={(condition) => onChange({ ...config, condition })}
      help="Truthy takes the true path, falsy the false path. An expression: ${= vars.qty > 10}"
    />
  );
}

function SwitchPanel({ config, onChange, ctx }: Props) {
  return (
    <>
      <TextField
        label="Value"
        template
        value={str(config.value)}
        onChange={(value) => onChange({ ...config, value })}
        help="The path whose case matches the value is taken; a path named default takes the rest."
      />
      <fieldset className="field">
        <legend>Cases</legend>
        {ctx.outgoing.length === 0 && (
          <p className="muted">Connect this node to the next ones; each connection is a case.</p>
        )}
        {ctx.outgoing.map((e) => (
          <label key={e.id} className="kv-row">
            <span className="mono">→ {e.target}</span>
            <input
              className="mono"
              aria-label={`Case for ${e.target}`}
              value={str(e.when)}
              onChange={(ev) => ctx.setWhen(e.id, ev.target.value)}
            />
          </label>
        ))}
      </fieldset>
    </>
  );
}

function TransformPanel({ config, onChange }: Props) {
  return (
    <>
      <TextField
        label="JSONata expression"
        multiline
        jsonata
        value={str(config.expression)}
        onChange={(expression) => onChange({ ...config, expression })}
        help="Over the run: Webhook::Body, vars, steps, flow.key. For example $sum(Webhook::Body.items.price)"
      />
      <TextField
        label="Into"
        mono
        value={str(config.into)}
        onChange={(into) => onChange({ ...config, into })}
        help="vars.<name> or flow.key.<name>"
      />
    </>
  );
}

function HttpPanel({ config, onChange, ctx }: Props) {
  return (
    <>
      <SelectField
        label="Method"
        value={str(config.method) || 'GET'}
        options={METHODS}
        onChange={(method) => onChange({ ...config, method })}
      />
      <TextField
        label="URL"
        template
        value={str(config.url)}
        onChange={(url) => onChange({ ...config, url })}
      />
      <KeyValueEditor
        label="Headers"
        value={(config.headers as Record<string, unknown>) ?? {}}
        keyPlaceholder="x-header"
        valuePlaceholder="value or ${vars.token}"
        onChange={(headers) => onChange({ ...config, headers })}
      />
      <BodyField
        label="Body"
        value={config.body}
        onChange={(body) => onChange(withOptional(config, 'body', body))}
      />
      <SelectField
        label="Credential"
        value={str(config.credential_id)}
        options={[
          { value: '', label: 'None' },
          ...ctx.credentials.map((c) => ({ value: c.id, label: `${c.name} (${c.type})` })),
        ]}
        onChange={(id) => onChange(withOptional(config, 'credential_id', id || undefined))}
      />
      <NumberField
        label="Timeout (ms)"
        value={config.timeout_ms as number | undefined}
        min={1}
        max={300000}
        onChange={(v) => onChange(withOptional(config, 'timeout_ms', v))}
      />
      <Toggle
        label="A 4xx or 5xx answer fails the run"
        checked={config.fail_on_error_status !== false}
        onChange={(v) => onChange({ ...config, fail_on_error_status: v })}
      />
      <p className="muted">The answer is in steps.&lt;this node&gt;: status, headers and body.</p>
    </>
  );
}

const CALL_PARAMS = [
  { value: 'call', label: 'call (this call’s data)' },
  { value: 'flow.key', label: 'flow.key (the flow keys)' },
  { value: 'user.key', label: 'user.key (the run’s variables)' },
];

function WebhookCallPanel({ config, onChange, ctx }: Props) {
  const params = Array.isArray(config.params) ? (config.params as string[]) : ['call'];
  return (
    <>
      <SelectField
        label="Outbound webhook"
        value={str(config.endpoint_id)}
        options={[
          {
            value: '',
            label: ctx.endpoints.length ? 'Choose an endpoint…' : 'No endpoints yet (Webhook Settings)',
          },
          ...ctx.endpoints.map((e) => ({ value: e.id, label: `${e.name} — ${e.url}` })),
        ]}
        onChange={(endpoint_id) => onChange({ ...config, endpoint_id })}
      />
      <TextField
        label="Method name"
        template
        value={str(config.method_name)}
        onChange={(v) => onChange(withOptional(config, 'method_name', v || undefined))}
      />
      <fieldset className="field">
        <legend>Send</legend>
        {CALL_PARAMS.map((p) => (
          <label key={p.value} className="field-inline">
            <input
              type="checkbox"
              checked={params.includes(p.value)}
              onChange={(e) =>
                onChange({
                  ...config,
                  params: e.target.checked ? [...params, p.value] : params.filter((x) => x !== p.value),
                })
              }
            />
            <span>{p.label}</span>
          </label>
        ))}
      </fieldset>
      <BodyField
        label="Call data"
        value={config.body}
        onChange={(body) => onChange(withOptional(config, 'body', body))}
      />
      <TextField
        label="Into (optional)"
        mono
        value={str(config.into)}
        onChange={(v) => onChange(withOptional(config, 'into', v || undefined))}
        help="Also keep the answer in vars.<name> or flow.key.<name>; it is always in steps.<this node>."
      />
    </>
  );
}

function EmitPanel({ config, onChange, ctx }: Props) {
  return (
    <>
      <div className="field">
        <label htmlFor="emit-event-type">Event type</label>
        <input
          id="emit-event-type"
          className="mono"
          list="emit-event-types"
          value={str(config.event_type)}
          onChange={(e) => onChange({ ...config, event_type: e.target.value })}
        />
        <datalist id="emit-event-types">
          {ctx.eventTypes.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <small className="muted">Like order.created; subscribers of this type receive it.</small>
      </div>
      <BodyField
        label="Data"
        value={config.data}
        onChange={(data) => onChange(withOptional(config, 'data', data))}
      />
    </>
  );
}

function DelayPanel({ config, onChange }: Props) {
  const byTime = config.until !== undefined;
  return (
    <>
      <SelectField
        label="Wait"
        value={byTime ? 'until' : 'ms'}
        options={[
          { value: 'ms', label: 'For a duration' },
          { value: 'until', label: 'Until a moment' },
        ]}
        onChange={(v) => onChange(v === 'until' ? { until: '${Webhook::Body.remind_at}' } : { ms: 60000 })}
      />
      {byTime ? (
        <TextField
          label="Until"
          template
          value={str(config.until)}
          onChange={(until) => onChange({ until })}
          help="An ISO time, like 2026-12-01T09:00:00Z, or a template that gives one."
        />
      ) : (
        <NumberField
          label="Milliseconds"
          value={config.ms as number | undefined}
          min={0}
          onChange={(ms) => onChange(ms === undefined ? {} : { ms })}
          help="The timer is durable: a restart does not lose or shorten it."
        />
      )}
    </>
  );
}

function RespondPanel({ config, onChange }: Props) {
  return (
    <>
      <NumberField
        label="Status"
        value={config.status as number | undefined}
        min={100}
        max={599}
        onChange={(v) => onChange(withOptional(config, 'status', v))}
      />
      <TextField
        label="Content type"
        template
        value={str(config.content_type)}
        onChange={(v) => onChange(withOptional(config, 'content_type', v || undefined))}
      />
      <KeyValueEditor
        label="Headers"
        value={(config.headers as Record<string, unknown>) ?? {}}
        keyPlaceholder="x-header"
        valuePlaceholder="value"
        onChange={(headers) => onChange({ ...config, headers })}
      />
      <BodyField
        label="Body"
        value={config.body}
        onChange={(body) => onChange(withOptional(config, 'body', body))}
      />
      <p className="muted">Answers a caller waiting in response mode “flow”; the run goes on after it.</p>
    </>
  );
}

function FailPanel({ config, onChange }: Props) {
  return (
    <TextField
      label="Message"
      template
      value={str(config.message)}
      onChange={(message) => onChange({ ...config, message })}
    />
  );
}

export const STEP_PANELS: Record<Exclude<NodeType, 'webhook'>, (p: Props) => React.JSX.Element> = {
  set: SetPanel,
  if: IfPanel,
  switch: SwitchPanel,
  transform: TransformPanel,
  http: HttpPanel,
  webhook_call: WebhookCallPanel,
  emit: EmitPanel,
  delay: DelayPanel,
  respond: RespondPanel,
  fail: FailPanel,
};

/** Sets a key, or removes it when the value is undefined (the API then applies its default). */
export function withOptional(config: Config, key: string, value: unknown): Config {
  const next = { ...config };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}
