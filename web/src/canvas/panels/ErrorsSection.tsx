/**
 * "Errors and retries", under the form of every node that is neither a trigger nor terminal: how
 * many attempts the node gets and the back-off between them (`retry`), and what a failure after the
 * last one does (`on_error`) — docs/api.md §4.4. Both live on the node beside its `config`; a value
 * left at its default is left out, so the API applies it.
 */
import { type ReactNode, useId, useState } from 'react';
import { formatDuration } from '../../format.ts';
import type { OnError, Retry } from '../document.ts';
import { SelectField } from './fields.tsx';

/** The API's defaults (docs/api.md §4.4). */
export const RETRY_DEFAULTS = {
  max_attempts: 1,
  backoff_ms: 1000,
  factor: 2,
  max_backoff_ms: 600_000,
} as const;

const ON_ERROR_OPTIONS: { value: OnError; label: string }[] = [
  { value: 'fail', label: 'Fail the run' },
  { value: 'continue', label: 'Continue along the normal path' },
  { value: 'branch', label: 'Take the error path' },
];

/** The waits between attempts: before attempt n+1, min(longest, first × factor^(n−1)). */
export function retryWaits(retry: Retry): number[] {
  const attempts = retry.max_attempts ?? RETRY_DEFAULTS.max_attempts;
  const first = retry.backoff_ms ?? RETRY_DEFAULTS.backoff_ms;
  const factor = retry.factor ?? RETRY_DEFAULTS.factor;
  const longest = retry.max_backoff_ms ?? RETRY_DEFAULTS.max_backoff_ms;
  if (![attempts, first, factor, longest].every(Number.isFinite) || attempts > 10) return [];
  const waits: number[] = [];
  for (let n = 1; n < attempts; n++) waits.push(Math.min(longest, first * factor ** (n - 1)));
  return waits;
}

/** A wait as people say it: "500 ms", "1 s", "1.5 s", "2 min 8 s". */
export function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms).replace(/\.0 s$/, ' s');
}

/** The one line under the back-off fields: "Waits 1 s, 2 s, 4 s between attempts". */
export function retryPreview(retry: Retry): string | null {
  const waits = retryWaits(retry);
  if (waits.length === 0) return null;
  if (waits.every((w) => w === 0)) return 'Tries again at once: no wait between attempts';
  return `Waits ${waits.map(formatWait).join(', ')} between attempts`;
}

/**
 * A number input that keeps what is typed (an emptied field stays empty while the next digits
 * come) and reports a number, or undefined when emptied.
 */
function DraftNumber(props: {
  label: string;
  initial: number | undefined;
  onChange: (v: number | undefined) => void;
  min: number;
  max: number;
  step?: string;
  placeholder?: string;
  help?: ReactNode;
  error?: string | null;
}) {
  const id = useId();
  const [text, setText] = useState(props.initial === undefined ? '' : String(props.initial));
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        value={text}
        min={props.min}
        max={props.max}
        step={props.step}
        placeholder={props.placeholder}
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const n = e.target.value.trim() === '' ? undefined : Number(e.target.value);
          if (n === undefined || Number.isFinite(n)) props.onChange(n);
        }}
      />
      {props.error && <small className="field-error">{props.error}</small>}
      {props.help && <small className="muted">{props.help}</small>}
    </div>
  );
}

const outOfRange = (v: number | undefined, min: number, max: number, integer = true) =>
  v !== undefined && (v < min || v > max || (integer && !Number.isInteger(v)))
    ? `${integer ? 'A whole number' : 'A number'} from ${min} to ${max}`
    : null;

export function ErrorsSection(props: {
  nodeId: string;
  retry: Retry | undefined;
  onError: OnError | undefined;
  /** How many edges leave the node's error handle. */
  errorEdges: number;
  onRetry: (retry: Retry | undefined) => void;
  onOnError: (onError: OnError | undefined) => void;
}) {
  const { nodeId, retry, errorEdges } = props;
  const onError = props.onError ?? 'fail';
  const titleId = useId();
  const attempts = retry?.max_attempts ?? RETRY_DEFAULTS.max_attempts;
  /** A back-off key set, or removed when emptied (the API's default then applies). */
  const setKey = (key: Exclude<keyof Retry, 'max_attempts'>, v: number | undefined) => {
    const next: Retry = { ...retry };
    if (v === undefined) delete next[key];
    else next[key] = v;
    props.onRetry(next);
  };
  const preview = retry && attempts > 1 ? retryPreview(retry) : null;
  return (
    <section className="panel-section" aria-labelledby={titleId}>
      <h3 id={titleId}>Errors and retries</h3>
      <DraftNumber
        label="Retries"
        initial={attempts}
        min={1}
        max={10}
        help="Attempts in all, the first included (1–10); 1 tries once."
        error={outOfRange(retry?.max_attempts, 1, 10)}
        onChange={(v) => {
          // Emptied while typing: nothing changes yet; 1 is one attempt, the API's default.
          if (v === undefined) return;
          props.onRetry(v === 1 ? undefined : { ...retry, max_attempts: v });
        }}
      />
      {retry && attempts > 1 && (
        <>
          <DraftNumber
            label="First wait (ms)"
            initial={retry.backoff_ms ?? RETRY_DEFAULTS.backoff_ms}
            placeholder={String(RETRY_DEFAULTS.backoff_ms)}
            min={0}
            max={86_400_000}
            error={outOfRange(retry.backoff_ms, 0, 86_400_000)}
            onChange={(v) => setKey('backoff_ms', v)}
          />
          <div className="field-row">
            <DraftNumber
              label="Factor"
              initial={retry.factor ?? RETRY_DEFAULTS.factor}
              placeholder={String(RETRY_DEFAULTS.factor)}
              min={1}
              max={10}
              step="any"
              help="Each wait is the last one times this."
              error={outOfRange(retry.factor, 1, 10, false)}
              onChange={(v) => setKey('factor', v)}
            />
            <DraftNumber
              label="Longest wait (ms)"
              initial={retry.max_backoff_ms ?? RETRY_DEFAULTS.max_backoff_ms}
              placeholder={String(RETRY_DEFAULTS.max_backoff_ms)}
              min={0}
              max={604_800_000}
              error={outOfRange(retry.max_backoff_ms, 0, 604_800_000)}
              onChange={(v) => setKey('max_backoff_ms', v)}
            />
          </div>
          {preview && (
            <small className="muted retry-preview" data-testid="retry-preview">
              {preview}
            </small>
          )}
        </>
      )}
      <SelectField
        label="On error"
        value={onError}
        options={ON_ERROR_OPTIONS}
        onChange={(v) => props.onOnError(v === 'fail' ? undefined : (v as OnError))}
        help={
          onError === 'continue' ? (
            <>
              After the last attempt the node is marked failed and the run goes on along its normal
              connections; <code>{`\${steps.${nodeId}.error}`}</code> holds the message.
            </>
          ) : onError === 'branch' ? (
            errorEdges === 0 ? (
              <>
                Connect the node’s red <strong>error</strong> dot to the steps that handle the failure (they
                can use <code>{'${error.message}'}</code>); the flow cannot be saved before.
              </>
            ) : (
              <>
                After the last attempt the run takes only the connections from the red <strong>error</strong>{' '}
                dot; they can use <code>{'${error.message}'}</code>.
              </>
            )
          ) : (
            'A failure after the last attempt fails the run.'
          )
        }
      />
      {onError !== 'branch' && errorEdges > 0 && (
        <small className="field-error" role="note">
          {errorEdges === 1
            ? 'An error connection still leaves'
            : `${errorEdges} error connections still leave`}{' '}
          this node: choose “Take the error path”, or delete {errorEdges === 1 ? 'it' : 'them'} — the flow
          cannot be saved as it is.
        </small>
      )}
    </section>
  );
}
