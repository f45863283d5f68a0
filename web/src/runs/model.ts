/**
 * Runs as the API returns them (docs/api.md §4.1, §4.2); the messages they cause are typed in
 * messages/types.ts.
 */
import type { Api } from '../api.ts';
import { ApiError } from '../api.ts';

export type { Attempt, Delivery, Message, MessageListItem } from '../messages/types.ts';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A row of GET /runs. */
export type RunSummary = {
  id: string;
  flow_id: string;
  trigger_node_id: string;
  status: RunStatus;
  error: string | null;
  attempts: number;
  method: string | null;
  /** Started with Run now (`POST /flows/:id/run`), not by a request to the trigger. */
  manual?: boolean;
  /** Started by a test URL (docs/api.md §3.13): side effects held back. */
  test?: boolean;
  /** Run by a shadow replay (§3.14), `replay_id`; `replay_of` the run whose request it ran again. */
  replay?: boolean;
  replay_id?: string | null;
  replay_of?: string | null;
  /** The version it ran, or null with `draft_revision`: a revision of the draft. */
  flow_version?: number | null;
  draft_revision?: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

/** One attempt of a node that failed at least once; `error` null: the one that succeeded. */
export type NodeAttempt = { started_at: string; finished_at: string; error: string | null };

export type NodeRecord = {
  id: string;
  type: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'waiting';
  started_at?: string;
  finished_at?: string;
  input?: unknown;
  output?: unknown;
  error?: string | null;
  /** Every attempt, when one failed (a node with `retry`, or one whose failure was handled). */
  attempts?: NodeAttempt[];
  /** `retry`: waiting for its next attempt, at `output.retry_at`. */
  wait?: 'retry';
  /** A failure the flow handled (`on_error`): it went on along the normal or the error path. */
  handled?: 'continue' | 'branch' | 'timeout';
  /** What a code node's console printed. */
  logs?: string[];
  /** A loop's items, each with the records of its body's nodes (output: `{results, count, failed}`). */
  iterations?: LoopIteration[];
};

/** One item of a loop: its place in the list, how it went, and its body's node records. */
export type LoopIteration = {
  index: number;
  status: 'succeeded' | 'failed' | 'waiting' | 'running';
  started_at?: string;
  finished_at?: string;
  error?: string | null;
  nodes: NodeRecord[];
};

export type Trigger = {
  method?: string;
  path?: string;
  headers?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  [k: string]: unknown;
};

/** GET /runs/:id. */
export type Run = RunSummary & {
  trigger: Trigger;
  nodes: NodeRecord[];
  vars: Record<string, unknown>;
  flow_key: Record<string, unknown>;
  response: { status: number; headers: Record<string, string>; body: string } | null;
  rerun_of: string | null;
  /** An error run (flow setting error_flow_id): the failed run that started it. */
  error_of_run_id?: string | null;
  /** A failed run of a flow with an error flow: the error run started, or why none was. */
  error_flow?: { flow_id: string; run_id: string | null; skipped?: string } | null;
  /** A run started by a subflow node: the run that started it. */
  parent_run_id?: string | null;
  /** The runs this run's subflow nodes started. */
  children?: {
    id: string;
    flow_id: string;
    status: RunStatus;
    created_at: string;
    finished_at: string | null;
  }[];
};

export const isActive = (status: RunStatus) => status === 'queued' || status === 'running';

/**
 * Names of flows or endpoints by id, fetched once each (GET /flows/:id, /endpoints/:id); an id
 * whose object is gone (deleted) maps to null and is shown as the id.
 */
export function createNameCache(api: Api, collection: 'flows' | 'endpoints') {
  const known = new Map<string, Promise<string | null>>();
  return (id: string): Promise<string | null> => {
    let p = known.get(id);
    if (!p) {
      p = api<{ name: string }>('GET', `/${collection}/${encodeURIComponent(id)}`).then(
        (o) => o.name,
        (err) => {
          // A passing failure is asked again next time; a missing object is not.
          if (!(err instanceof ApiError && err.status === 404)) known.delete(id);
          return null;
        },
      );
      known.set(id, p);
    }
    return p;
  };
}
