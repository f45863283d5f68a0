/**
 * The code node's editor: the JavaScript source (monospace, Tab indents) beside the shape of the
 * `input` it runs over (docs/api.md §4.3 `code`).
 */
import { useId } from 'react';

const INPUT_SHAPE = `input = {
  Webhook: { Body, Headers, Query, Method, Path },  // the request
  vars: { … },          // the run's variables so far
  flow: { id, key: { … } },
  steps: { <node id>: its output, … },  // the nodes before this one
  run: { id }
}`;

export function CodeField(props: {
  label: string;
  help?: string;
  value: string;
  onChange: (v: string) => void;
}) {
  const id = useId();
  return (
    <div className="field code-field">
      <label htmlFor={id}>{props.label}</label>
      <pre className="code-input-shape" role="note" aria-label="Input shape">
        {INPUT_SHAPE}
      </pre>
      <textarea
        id={id}
        className="mono code-editor"
        rows={Math.min(24, Math.max(8, props.value.split('\n').length + 1))}
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key !== 'Tab' || e.shiftKey || e.altKey || e.metaKey || e.ctrlKey) return;
          // Tab indents inside the editor (Shift+Tab, or Escape then Tab, still leaves it).
          e.preventDefault();
          const el = e.currentTarget;
          const start = el.selectionStart;
          const end = el.selectionEnd;
          const next = `${el.value.slice(0, start)}  ${el.value.slice(end)}`;
          props.onChange(next);
          requestAnimationFrame(() => el.setSelectionRange(start + 2, start + 2));
        }}
      />
      {props.help && <small className="muted">{props.help}</small>}
    </div>
  );
}
