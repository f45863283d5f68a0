/**
 * The form parts every node panel is made of: labelled inputs whose strings are templates, with
 * hints of the values a template can name (`${Webhook::Body.…}`, `${vars.…}`, `${steps.…}`) that
 * insert themselves where the cursor was.
 */
import { type ReactNode, useId, useRef, useState } from 'react';

type Editable = HTMLInputElement | HTMLTextAreaElement;

/**
 * The template or JSONata field last focused in a panel, so a hint can be inserted at its cursor.
 * A JSONata field takes the hint's bare path (`Webhook::Body.id`), a template the `${…}` form.
 */
let lastFocused: { el: Editable; set: (v: string) => void; bare: boolean } | null = null;

/** `${Webhook::Body.id}` → `Webhook::Body.id`: the same value named inside a JSONata expression. */
export const barePath = (hint: string) => hint.replace(/^\$\{(.*)\}$/s, '$1');

function insertAtCursor(hint: string): boolean {
  const target = lastFocused;
  if (!target?.el.isConnected) return false;
  const { el } = target;
  const text = target.bare ? barePath(hint) : hint;
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? start;
  const next = el.value.slice(0, start) + text + el.value.slice(end);
  target.set(next);
  requestAnimationFrame(() => {
    el.focus();
    el.setSelectionRange(start + text.length, start + text.length);
  });
  return true;
}

export function TextField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  help?: ReactNode;
  multiline?: boolean;
  template?: boolean;
  /** The field is a JSONata expression: hints go in as bare paths. */
  jsonata?: boolean;
  mono?: boolean;
  /** A secret: typed hidden, never autofilled. */
  secret?: boolean;
  error?: string;
}) {
  const id = useId();
  const ref = useRef<Editable | null>(null);
  const common = {
    id,
    value: props.value,
    placeholder: props.placeholder,
    spellCheck: false,
    className: props.mono || props.template || props.jsonata ? 'mono' : undefined,
    'aria-invalid': props.error ? true : undefined,
    onFocus: () => {
      if ((props.template || props.jsonata) && ref.current)
        lastFocused = { el: ref.current, set: props.onChange, bare: !!props.jsonata };
    },
  };
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea
          {...common}
          ref={(el) => {
            ref.current = el;
          }}
          rows={4}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          {...common}
          {...(props.secret ? { type: 'password', autoComplete: 'off' } : {})}
          ref={(el) => {
            ref.current = el;
          }}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.error && <small className="field-error">{props.error}</small>}
      {props.help && <small className="muted">{props.help}</small>}
    </div>
  );
}

export function NumberField(props: {
  label: string;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  min?: number;
  max?: number;
  help?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        value={props.value ?? ''}
        min={props.min}
        max={props.max}
        onChange={(e) => props.onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
      {props.help && <small className="muted">{props.help}</small>}
    </div>
  );
}

export function SelectField(props: {
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (v: string) => void;
  help?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.help && <small className="muted">{props.help}</small>}
    </div>
  );
}

export function Toggle(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="switch panel-switch">
      <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <span className="switch-track" aria-hidden="true" />
      <span className="switch-text">{props.label}</span>
    </label>
  );
}

/**
 * Rows of key and value (headers, the values a `set` node assigns). Keeps rows as typed, blank
 * keys included, and reports the object without them.
 */
export function KeyValueEditor(props: {
  label: string;
  value: Record<string, unknown>;
  onChange: (v: Record<string, string>) => void;
  keyPlaceholder: string;
  valuePlaceholder: string;
  help?: ReactNode;
}) {
  const [rows, setRows] = useState<{ k: string; v: string }[]>(() =>
    Object.entries(props.value ?? {}).map(([k, v]) => ({
      k,
      v: typeof v === 'string' ? v : JSON.stringify(v),
    })),
  );
  const update = (next: { k: string; v: string }[]) => {
    setRows(next);
    const out: Record<string, string> = {};
    for (const r of next) if (r.k.trim()) out[r.k.trim()] = r.v;
    props.onChange(out);
  };
  return (
    <fieldset className="field kv">
      <legend>{props.label}</legend>
      {rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
        <div className="kv-row" key={i}>
          <input
            aria-label={`${props.label} ${i + 1} key`}
            className="mono"
            value={r.k}
            placeholder={props.keyPlaceholder}
            spellCheck={false}
            onChange={(e) => update(rows.map((x, j) => (j === i ? { ...x, k: e.target.value } : x)))}
          />
          <input
            aria-label={`${props.label} ${i + 1} value`}
            className="mono"
            value={r.v}
            placeholder={props.valuePlaceholder}
            spellCheck={false}
            onFocus={(e) => {
              const el = e.currentTarget;
              lastFocused = {
                el,
                set: (v) => update(rows.map((x, j) => (j === i ? { ...x, v } : x))),
                bare: false,
              };
            }}
            onChange={(e) => update(rows.map((x, j) => (j === i ? { ...x, v: e.target.value } : x)))}
          />
          <button
            type="button"
            className="button button-small button-quiet"
            aria-label={`Remove ${props.label} ${i + 1}`}
            onClick={() => update(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="button button-small"
        onClick={() => setRows([...rows, { k: '', v: '' }])}
      >
        Add
      </button>
      {props.help && <small className="muted">{props.help}</small>}
    </fieldset>
  );
}

/**
 * A body that may be JSON or text: text that parses as a JSON object or array is stored as that
 * value (sent as JSON), anything else as the string itself (a template).
 */
export function BodyField(props: {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  help?: ReactNode;
}) {
  const initial =
    props.value === undefined
      ? ''
      : typeof props.value === 'string'
        ? props.value
        : JSON.stringify(props.value, null, 2);
  const [text, setText] = useState(initial);
  const parsed = parseJsonStructure(text);
  return (
    <TextField
      label={props.label}
      value={text}
      multiline
      template
      onChange={(v) => {
        setText(v);
        const p = parseJsonStructure(v);
        props.onChange(v.trim() === '' ? undefined : p.ok ? p.value : v);
      }}
      help={
        <>
          {text.trim() === '' ? 'Empty.' : parsed.ok ? 'Sent as JSON.' : 'Sent as text (a template).'}{' '}
          {props.help}
        </>
      }
    />
  );
}

function parseJsonStructure(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    return { ok: false };
  }
}

/** Chips of the values a template can name here; a click inserts one at the cursor. */
export function TemplateHints({ hints }: { hints: string[] }) {
  const [note, setNote] = useState<string | null>(null);
  if (hints.length === 0) return null;
  return (
    <div className="hints">
      <div className="hints-title">Values you can use</div>
      <div className="hints-list">
        {hints.map((h) => (
          <button
            type="button"
            key={h}
            className="hint mono"
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => setNote(insertAtCursor(h) ? null : 'Click into a field first, then on a value.')}
          >
            {h}
          </button>
        ))}
      </div>
      {note && <small className="muted">{note}</small>}
    </div>
  );
}

export function Problems({ problems }: { problems: { field: string; msg: string }[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="banner banner-error panel-problems" role="alert">
      <ul>
        {problems.map((p) => (
          <li key={`${p.field}:${p.msg}`}>
            <code>{p.field}</code>: {p.msg}
          </li>
        ))}
      </ul>
    </div>
  );
}
