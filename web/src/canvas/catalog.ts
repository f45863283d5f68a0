/**
 * The node catalog, `GET /api/v1/node-types` (docs/api.md §4.6): what each node type is called,
 * what it is for, the config a new one starts with, the edges it offers, its panel's fields and its
 * one-line summary. The canvas knows no node type by name; it builds its palette, nodes and panels
 * from these entries. The types are the server's (src/nodes/types.ts), copied: the UI is built on
 * its own.
 */
import { createContext, useContext } from 'react';
import type { Config, OnError } from './document.ts';

/** The handle a timeout edge (`when: "timeout"`) leaves from, on a node with `edges: "timeout"` (wait). */
export const TIMEOUT_HANDLE = 'timeout';
/** The handle an error edge (`when: "error"`) leaves from, on a node with `on_error: "branch"`. */
export const ERROR_HANDLE = 'error';

/** One input of a node's settings panel, bound to `config[key]`. */
export type FieldSpec = {
  key: string;
  label: string;
  kind:
    | 'template'
    | 'text'
    | 'jsonata'
    | 'code'
    | 'number'
    | 'boolean'
    | 'select'
    | 'checkboxes'
    | 'key_value'
    | 'body'
    | 'credential'
    | 'endpoint'
    | 'flow'
    | 'event_type'
    | 'alternatives';
  help?: string;
  placeholder?: string;
  multiline?: boolean;
  mono?: boolean;
  /** Emptied, the key is removed from the config (the API then applies its default). */
  optional?: boolean;
  /** The value the API uses when the key is absent. */
  default?: unknown;
  options?: { value: string; label: string }[];
  min?: number;
  max?: number;
  key_placeholder?: string;
  value_placeholder?: string;
  credential_types?: string[];
  alternatives?: { value: string; label: string; field: FieldSpec; initial: unknown }[];
};

/** What a node type looks like to the canvas: one entry of `GET /api/v1/node-types`. */
export type NodeCatalogEntry = {
  type: string;
  label: string;
  description: string;
  /** Palette group, and the node's colour. */
  category: 'trigger' | 'logic' | 'data' | 'action' | 'control';
  /** A trigger takes no incoming edges. */
  trigger: boolean;
  /** Ends its branch: no outgoing edges. */
  terminal: boolean;
  /**
   * The out-edges it offers: plain; boolean (`when: true|false`); cases (`when: "<case>"|"default"`);
   * timeout (plain, and `when: "timeout"` from a timeout handle: wait).
   */
  edges: 'plain' | 'boolean' | 'cases' | 'timeout';
  /** May be a step of a container's body. */
  in_body?: boolean;
  initial_config: Record<string, unknown>;
  /** The panel's form; empty when `panel` names the UI's own panel for the type. */
  fields: FieldSpec[];
  panel: string | null;
  /** Summary candidates: the first whose `{path}` placeholders all have a value is shown. */
  summary: string[];
  /** A sentence under the form, or null; `{id}` stands for the node's id. */
  note: string | null;
  /** What `steps.<id>` holds after the node ran. */
  output: string;
  /**
   * A container (`loop`): its `config.nodes` and `config.edges` are a body of ordinary nodes,
   * drawn inside it on the canvas (docs/api.md §4.3).
   */
  container?: boolean;
};

export type NodeCatalog = {
  /** In palette order. */
  entries: NodeCatalogEntry[];
  byType: ReadonlyMap<string, NodeCatalogEntry>;
};

export function nodeCatalog(entries: NodeCatalogEntry[]): NodeCatalog {
  return { entries, byType: new Map(entries.map((e) => [e.type, e])) };
}

const NodeCatalogContext = createContext<NodeCatalog>(nodeCatalog([]));
export const NodeCatalogProvider = NodeCatalogContext.Provider;
export const useNodeCatalog = () => useContext(NodeCatalogContext);

/** Whether a node of this type may be a step of a container's body (the catalog's `in_body`). */
export function mayGoInABody(entry: NodeCatalogEntry | undefined): boolean {
  return !!entry && !entry.trigger && entry.in_body !== false;
}

/** The CSS classes of a type's colour: `<prefix>-<category>`, and `<prefix>-terminal` for an end. */
export function kindClasses(prefix: string, entry: NodeCatalogEntry | undefined): string {
  if (!entry) return '';
  return `${prefix}-${entry.category}${entry.terminal ? ` ${prefix}-terminal` : ''}`;
}

/** The value at a dotted path of the config. */
function at(config: Config, path: string): unknown {
  let v: unknown = config;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A placeholder's text, or undefined when the config has no value there. */
function placeholderText(config: Config, spec: string): string | undefined {
  if (spec.startsWith('#')) {
    const v = at(config, spec.slice(1));
    if (Array.isArray(v)) return String(v.length);
    if (v !== null && typeof v === 'object') return String(Object.keys(v).length);
    return undefined;
  }
  const v = at(config, spec);
  if (v === undefined || v === null) return undefined;
  const one = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x));
  const text = Array.isArray(v) ? v.map(one).join(', ') : one(v);
  return text === '' ? undefined : text;
}

/** The node's one-line summary: the first candidate whose placeholders all have a value, else ''. */
export function summaryOf(entry: NodeCatalogEntry | undefined, config: Config): string {
  for (const candidate of entry?.summary ?? []) {
    let complete = true;
    const text = candidate.replace(/\{(#?[^}]+)\}/g, (_, spec: string) => {
      const t = placeholderText(config, spec);
      if (t === undefined) complete = false;
      return t ?? '';
    });
    if (complete) return text;
  }
  return '';
}

/**
 * The `when` a new edge out of a node starts with: from the error handle `error`; boolean edges
 * take the handle's (`true`, or `false` from the false handle), cases a fresh `case_<n>`, plain
 * edges none.
 */
export function initialWhen(
  source: NodeCatalogEntry | undefined,
  sourceHandle: string | null | undefined,
  existingWhens: (boolean | string | undefined)[],
): boolean | string | undefined {
  if (sourceHandle === ERROR_HANDLE) return 'error';
  if (sourceHandle === TIMEOUT_HANDLE) return 'timeout';
  if (source?.edges === 'boolean') return sourceHandle !== 'false';
  if (source?.edges === 'cases') {
    let n = 1;
    while (existingWhens.includes(`case_${n}`)) n++;
    return `case_${n}`;
  }
  return undefined;
}

/**
 * The handle an edge leaves from: `when: "error"` out of a node with `on_error: "branch"` from its
 * error handle, boolean edges from their `true` or `false` handle, others the one.
 */
export function sourceHandleOf(
  source: NodeCatalogEntry | undefined,
  when: boolean | string | undefined,
  onError?: OnError,
): string | null {
  if (when === 'error' && onError === 'branch') return ERROR_HANDLE;
  if (when === 'timeout' && source?.edges === 'timeout') return TIMEOUT_HANDLE;
  return source?.edges === 'boolean' && typeof when === 'boolean' ? String(when) : null;
}

/**
 * `{status, headers, body}; …` → the names `steps.<id>` holds, as the entry's output lists them
 * (a name may be described after a colon, in brackets: `{results: [one per item], count, failed}`).
 */
export function outputNames(entry: NodeCatalogEntry | undefined): string[] {
  const m = /^\{([^{}]*)\}/.exec((entry?.output ?? '').replace(/\[[^\]]*\]/g, ''));
  if (!m) return [];
  const names = m[1].split(',').map((part) => /^\s*([A-Za-z_]\w*)\s*(?::.*)?$/.exec(part)?.[1]);
  return names.every((n) => n !== undefined) ? (names as string[]) : [];
}
