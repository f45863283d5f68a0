/**
 * The node registry's contract (docs/api.md §4.3, §4.6): a node type is one `NodeDefinition` — its
 * config schema, the checks beyond the schema, its executor and its catalog entry, the part
 * `GET /api/v1/node-types` serves and the canvas builds its palette, nodes and panels from.
 */
import type { z } from 'zod';
import type { FlowEdge, FlowNode } from '../core/flowDocument.ts';
import type { TemplateContext } from '../core/templates.ts';
import type {
  EngineEffects,
  LoopIteration,
  NodeRecord,
  PendingEvent,
  RunState,
  Walker,
} from '../flows/engine.ts';

/** One input of a node's settings panel, bound to `config[key]`. */
export type FieldSpec = {
  key: string;
  label: string;
  /**
   * template: a string whose `${…}` are rendered; text: a plain string; jsonata: an expression;
   * code: JavaScript source (a code editor, with the run's input shape shown);
   * number; boolean (a switch); select (one of `options`); checkboxes (a list of `options`);
   * key_value (an object of templates); body (JSON or text); credential (a credential id, of
   * `credential_types`); endpoint (an outbound endpoint id); flow (a flow id of the tenant);
   * event_type (a name, with the catalog's
   * event types offered); alternatives (exactly one of `alternatives`, each its own field).
   */
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

/** What a node type looks like to the canvas: the entry of `GET /api/v1/node-types`. */
export type NodeCatalogEntry = {
  type: string;
  label: string;
  description: string;
  /** Palette group: trigger, logic (branching), data, action (calls out), control (time, answers, ends). */
  category: 'trigger' | 'logic' | 'data' | 'action' | 'control';
  /** A trigger takes no incoming edges. */
  trigger: boolean;
  /** Ends its branch: no outgoing edges. */
  terminal: boolean;
  /** Drawn as a group holding its body's nodes (loop). */
  container?: boolean;
  /** May be a node of a loop's body (served; from the definition's `notInBody`). */
  in_body?: boolean;
  /**
   * The out-edges it offers: plain; boolean (`when: true|false`); cases (`when: "<case>"|"default"`);
   * timeout (plain, and `when: "timeout"` taken when the node gave up waiting).
   */
  edges: 'plain' | 'boolean' | 'cases' | 'timeout';
  /** The config a new node of this type starts with. */
  initial_config: Record<string, unknown>;
  /** The panel's form; empty when `panel` names the UI's own panel for the type. */
  fields: FieldSpec[];
  panel: string | null;
  /**
   * The one-line summary on the canvas: the first candidate whose `{path}` placeholders all have a
   * value in the config (`{#path}`: the number of its keys or items; an array is joined with ", ").
   */
  summary: string[];
  /** A sentence under the form, or null; `{id}` in it stands for the node's id. */
  note: string | null;
  /** What `steps.<id>` holds after the node ran. */
  output: string;
};

/** A problem found on save, beyond the schema: the field (under `config.`) and the message. */
export type ConfigProblem = { field: string; msg: string };

/** What an executor returns: done (with what to record), asleep until a time, or a failed run. */
export type StepResult =
  | {
      kind: 'done';
      input?: unknown;
      output?: unknown;
      checkpoint?: boolean;
      logs?: string[];
      iterations?: LoopIteration[];
    }
  | {
      kind: 'sleep';
      input?: unknown;
      untilMs: number;
      iterations?: LoopIteration[];
      /** Kept in the waiting record's output beside `until` (a subflow's child run id). */
      keep?: Record<string, unknown>;
    }
  | { kind: 'fail'; input?: unknown; message: string }
  /** The run is no longer this worker's (a checkpoint said so): stop, record nothing. */
  | { kind: 'abandoned' };

/** What an executor gets: the node, the run, the template context and the engine's effects. */
export type NodeContext<C = any> = {
  node: FlowNode & { config: C };
  config: C;
  state: RunState;
  ctx: TemplateContext;
  effects: EngineEffects;
  /** The node's record from an earlier pass (a `waiting` delay resumed). */
  existing: NodeRecord | undefined;
  /** Events to publish with the node's checkpoint (emit). */
  events: PendingEvent[];
  /**
   * The run around the node, for a node with a body (loop): walk a body graph, persist the run, and
   * `live(record)` to put the node's in-progress record in the run (so a checkpoint keeps it).
   */
  runtime: Walker & { live(record: Omit<NodeRecord, 'id' | 'type'>): void };
};

export type NodeDefinition<C = any> = {
  type: string;
  catalog: Omit<NodeCatalogEntry, 'type'>;
  /** The config's schema (defaults filled in on save). */
  schema: z.ZodType<C>;
  /** Checks beyond the schema, run after it passed; templates in string leaves are checked for all. */
  validate?: (config: C) => ConfigProblem[];
  /** Config keys whose strings are not templates (checked by `validate` instead). */
  notTemplates?: string[];
  /** The flows the config names (subflow), checked on save to be flows of the tenant. */
  flowRefs?: (config: C) => { field: string; id: string }[];
  /** The credentials the config names, checked on save to exist (and to be of one of `types`). */
  credentialRefs?: (config: C) => { field: string; id: string; types: readonly string[] }[];
  /** A message for an out-edge this type does not offer, or undefined. */
  edgeProblem?: (edge: FlowEdge) => string | undefined;
  /** Whether an out-edge carries control after the node ran (default: every edge of a succeeded node). */
  edgeTaken?: (edge: FlowEdge, output: unknown, siblings: readonly FlowEdge[]) => boolean;
  /**
   * A node with a body (loop): the body's nodes and edges in its config, checked on save like the
   * flow's own graph (and replaced by their normalised form).
   */
  body?: (config: C) => { nodes: unknown[]; edges: unknown[] };
  /** Why the type cannot be a node of a loop's body (triggers never can), or undefined. */
  notInBody?: string;
  /** A waiting record of this type is asleep (its time does not count against the run's timeout). */
  sleeps?: boolean;
  execute: (c: NodeContext<C>) => Promise<StepResult>;
};
