/**
 * The settings panel of every node type without a panel of its own: the form its catalog entry's
 * `fields` describe (docs/api.md §4.6), the cases of a node with `edges: "cases"`, and its note.
 */
import { useId } from 'react';
import type { FieldSpec, NodeCatalogEntry } from '../catalog.ts';
import type { Config } from '../document.ts';
import { CodeField } from './CodeField.tsx';
import { BodyField, KeyValueEditor, NumberField, SelectField, TextField, Toggle } from './fields.tsx';

export type PanelContext = {
  credentials: { id: string; name: string; type: string }[];
  endpoints: { id: string; name: string; url: string }[];
  /** The tenant's flows (a subflow's flow), this one included. */
  flows: { id: string; name: string; enabled: boolean }[];
  eventTypes: string[];
  /** Outgoing edges of this node with their `when` (switch cases are edited here). */
  outgoing: { id: string; target: string; when?: boolean | string }[];
  setWhen: (edgeId: string, when: string) => void;
};

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** Sets a key, or removes it when the value is undefined (the API then applies its default). */
export function withOptional(config: Config, key: string, value: unknown): Config {
  const next = { ...config };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

/** A value an optional field leaves out: nothing typed, nothing chosen, no rows (a body only when empty). */
function isEmpty(field: FieldSpec, v: unknown): boolean {
  if (v === undefined || v === '') return true;
  if (field.kind === 'body') return false;
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

export function NodeForm(props: {
  /** The node's id (the note's `{id}`). */
  nodeId: string;
  entry: NodeCatalogEntry;
  config: Config;
  onChange: (c: Config) => void;
  ctx: PanelContext;
}) {
  const { nodeId, entry, config, onChange, ctx } = props;
  return (
    <>
      {entry.fields.map((f) => (
        <Field key={f.key} field={f} config={config} onChange={onChange} ctx={ctx} />
      ))}
      {entry.edges === 'cases' && <Cases ctx={ctx} />}
      {entry.note && <p className="muted">{entry.note.replaceAll('{id}', nodeId)}</p>}
    </>
  );
}

type FieldProps = { field: FieldSpec; config: Config; onChange: (c: Config) => void; ctx: PanelContext };

function Field({ field, config, onChange, ctx }: FieldProps) {
  const value = config[field.key];
  // Emptied, an optional field's key goes (so does a value that is no value at all, a number cleared).
  const set = (v: unknown) =>
    onChange(
      v === undefined || (field.optional && isEmpty(field, v))
        ? withOptional(config, field.key, undefined)
        : { ...config, [field.key]: v },
    );
  const text = { label: field.label, help: field.help, placeholder: field.placeholder };
  switch (field.kind) {
    case 'template':
    case 'text':
    case 'jsonata':
      return (
        <TextField
          {...text}
          template={field.kind === 'template'}
          jsonata={field.kind === 'jsonata'}
          mono={field.mono}
          multiline={field.multiline}
          value={str(value)}
          onChange={set}
        />
      );
    case 'code':
      return <CodeField label={field.label} help={field.help} value={str(value)} onChange={set} />;
    case 'number':
      return (
        <NumberField
          label={field.label}
          help={field.help}
          value={typeof value === 'number' ? value : undefined}
          min={field.min}
          max={field.max}
          onChange={set}
        />
      );
    case 'boolean':
      return (
        <>
          <Toggle
            label={field.label}
            checked={value === undefined ? field.default === true : value === true}
            onChange={set}
          />
          {field.help && <small className="muted">{field.help}</small>}
        </>
      );
    case 'select':
      return (
        <SelectField
          label={field.label}
          help={field.help}
          value={str(value) || str(field.default)}
          options={field.options ?? []}
          onChange={set}
        />
      );
    case 'checkboxes':
      return <Checkboxes field={field} value={value} onChange={set} />;
    case 'key_value':
      return (
        <KeyValueEditor
          label={field.label}
          help={field.help}
          value={value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}}
          keyPlaceholder={field.key_placeholder ?? ''}
          valuePlaceholder={field.value_placeholder ?? ''}
          onChange={set}
        />
      );
    case 'body':
      return <BodyField label={field.label} help={field.help} value={value} onChange={set} />;
    case 'credential': {
      const types = field.credential_types;
      return (
        <SelectField
          label={field.label}
          help={field.help}
          value={str(value)}
          options={[
            { value: '', label: 'None' },
            ...ctx.credentials
              .filter((c) => !types || types.includes(c.type))
              .map((c) => ({ value: c.id, label: `${c.name} (${c.type})` })),
          ]}
          onChange={set}
        />
      );
    }
    case 'endpoint':
      return (
        <SelectField
          label={field.label}
          help={field.help}
          value={str(value)}
          options={[
            {
              value: '',
              label: ctx.endpoints.length ? 'Choose an endpoint…' : 'No endpoints yet (Webhook Settings)',
            },
            ...ctx.endpoints.map((e) => ({ value: e.id, label: `${e.name} — ${e.url}` })),
          ]}
          onChange={set}
        />
      );
    case 'flow': {
      const known = ctx.flows.some((f) => f.id === value);
      return (
        <SelectField
          label={field.label}
          help={field.help}
          value={str(value)}
          options={[
            { value: '', label: ctx.flows.length ? 'Choose a flow…' : 'No flows yet' },
            ...(value && !known ? [{ value: str(value), label: `${str(value)} (missing)` }] : []),
            ...ctx.flows.map((f) => ({ value: f.id, label: `${f.name}${f.enabled ? '' : ' (disabled)'}` })),
          ]}
          onChange={set}
        />
      );
    }
    case 'event_type':
      return <EventTypeField field={field} value={str(value)} eventTypes={ctx.eventTypes} onChange={set} />;
    case 'alternatives':
      return <Alternatives field={field} config={config} onChange={onChange} ctx={ctx} />;
  }
}

function Checkboxes(props: { field: FieldSpec; value: unknown; onChange: (v: string[]) => void }) {
  const { field } = props;
  const fallback = Array.isArray(field.default) ? (field.default as string[]) : [];
  const chosen = Array.isArray(props.value) ? (props.value as string[]) : fallback;
  return (
    <fieldset className="field">
      <legend>{field.label}</legend>
      {(field.options ?? []).map((o) => (
        <label key={o.value} className="field-inline">
          <input
            type="checkbox"
            checked={chosen.includes(o.value)}
            onChange={(e) =>
              props.onChange(e.target.checked ? [...chosen, o.value] : chosen.filter((x) => x !== o.value))
            }
          />
          <span>{o.label}</span>
        </label>
      ))}
      {field.help && <small className="muted">{field.help}</small>}
    </fieldset>
  );
}

/** A name typed freely, with the event types the catalog knows offered. */
function EventTypeField(props: {
  field: FieldSpec;
  value: string;
  eventTypes: string[];
  onChange: (v: string) => void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.field.label}</label>
      <input
        id={id}
        className="mono"
        list={`${id}-list`}
        placeholder={props.field.placeholder}
        spellCheck={false}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <datalist id={`${id}-list`}>
        {props.eventTypes.map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
      {props.field.help && <small className="muted">{props.field.help}</small>}
    </div>
  );
}

/**
 * Exactly one of several fields (a delay's duration or moment): a choice of which, then its field.
 * The one chosen is the first whose key the config has; choosing another puts its initial value in
 * place of the other's key.
 */
function Alternatives({ field, config, onChange, ctx }: FieldProps) {
  const alternatives = field.alternatives ?? [];
  const chosen = alternatives.find((a) => config[a.field.key] !== undefined) ?? alternatives[0];
  if (!chosen) return null;
  return (
    <>
      <SelectField
        label={field.label}
        help={field.help}
        value={chosen.value}
        options={alternatives.map((a) => ({ value: a.value, label: a.label }))}
        onChange={(v) => {
          const next = alternatives.find((a) => a.value === v);
          if (!next || next === chosen) return;
          const c = { ...config };
          for (const a of alternatives) delete c[a.field.key];
          onChange({ ...c, [next.field.key]: next.initial });
        }}
      />
      <Field key={chosen.value} field={chosen.field} config={config} onChange={onChange} ctx={ctx} />
    </>
  );
}

/** The cases of a node whose out-edges are named: one per connection, typed here. */
function Cases({ ctx }: { ctx: PanelContext }) {
  return (
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
  );
}
