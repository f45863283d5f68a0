/** Small pieces the run screens share: status badges, JSON blocks, names looked up by id. */
import { useEffect, useState } from 'react';

/** A status as a coloured word; the colour follows the word (ok, bad, busy, quiet). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

/** "test" or "replay" beside a run that did not serve real traffic (its side effects held back). */
export function RunModeBadge({ run }: { run: { test?: boolean; replay?: boolean } }) {
  if (run.replay)
    return (
      <span className="badge run-mode" title="Run by a shadow replay: nothing it did left Hookflow">
        replay
      </span>
    );
  if (run.test)
    return (
      <span
        className="badge run-mode"
        title="Run by the test URL: its events are not delivered, no e-mail is sent"
      >
        test
      </span>
    );
  return null;
}

/** A value as the API stored it: text as is, anything else as indented JSON. */
export function JsonBlock(props: { value: unknown; label: string; empty?: string }) {
  const { value } = props;
  const isEmpty =
    value === undefined ||
    value === null ||
    value === '' ||
    (typeof value === 'object' && Object.keys(value as object).length === 0);
  if (isEmpty) return <p className="muted run-none">{props.empty ?? 'None'}</p>;
  return (
    <figure className="json-figure" aria-label={props.label}>
      <pre className="json">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>
    </figure>
  );
}

/**
 * The names of the given ids, resolved through `lookup` (a cache): an id maps to its name, to null
 * when its object is gone, and is absent while being looked up.
 */
export function useNames(
  lookup: (id: string) => Promise<string | null>,
  ids: string[],
): Map<string, string | null> {
  const [names, setNames] = useState<Map<string, string | null>>(new Map());
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    let live = true;
    for (const id of key ? key.split(',') : [])
      lookup(id).then((name) => {
        if (live) setNames((m) => (m.get(id) === name && m.has(id) ? m : new Map(m).set(id, name)));
      });
    return () => {
      live = false;
    };
  }, [lookup, key]);
  return names;
}
