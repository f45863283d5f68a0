/**
 * Versions, drafts and shadow replays as the API returns them (docs/api.md §3.11–§3.14): a flow's
 * immutable versions, the draft kept beside it, and the replays that run stored requests again.
 */
import type { Api } from '../api.ts';
import { ApiError } from '../api.ts';
import type { DocEdge, DocNode, FlowSettings } from '../canvas/document.ts';

/** A row of GET /flows/:id/versions. */
export type VersionSummary = {
  version: number;
  name: string;
  enabled: boolean;
  created_at: string;
  created_by: string | null;
  note: string | null;
};

/** GET /flows/:id/versions/:n: the version with its document. */
export type FlowVersion = VersionSummary & { nodes: DocNode[]; edges: DocEdge[]; settings: FlowSettings };

/** GET /flows/:id/draft (PUT answers the same). */
export type Draft = {
  flow_id?: string;
  revision: number;
  /** The flow's version when this revision was saved. */
  base_version: number;
  name: string;
  enabled?: boolean;
  nodes: DocNode[];
  edges: DocEdge[];
  settings: FlowSettings;
  /** The first webhook node's test URL: runs the draft as a test run. */
  test_url?: string | null;
  webhooks?: { node_id: string; url: string; test_url?: string }[];
  created_at: string;
  created_by?: string | null;
};

/** The flow's draft, or null when it has none. */
export async function getDraft(api: Api, flowId: string): Promise<Draft | null> {
  try {
    return await api<Draft>('GET', `/flows/${encodeURIComponent(flowId)}/draft`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code !== 'route_not_found') return null;
    throw err;
  }
}

/** One side of a comparison: a version's number, or the draft. */
export type Side = number | 'draft';

export function parseSide(raw: string | null): Side | null {
  if (raw === 'draft') return 'draft';
  const n = Number(raw);
  return raw && Number.isInteger(n) && n >= 1 ? n : null;
}

export const sideLabel = (s: Side) => (s === 'draft' ? 'Draft' : `Version ${s}`);

export function compareUrl(flowId: string, a: Side, b: Side): string {
  return `/flows/${encodeURIComponent(flowId)}/versions/compare?a=${a}&b=${b}`;
}

export function versionUrl(flowId: string, n: number): string {
  return `/flows/${encodeURIComponent(flowId)}/versions/${n}`;
}

export type ReplayStatus = 'running' | 'done';
export type ReplayItemStatus = 'pending' | 'running' | 'same' | 'different' | 'failed';

/** A row of GET /flows/:id/replays. */
export type ReplaySummary = {
  id: string;
  flow_id: string;
  /** The version replayed against, or null: a draft revision. */
  version: number | null;
  draft_revision: number | null;
  status: ReplayStatus;
  total: number;
  done: number;
  same: number;
  different: number;
  failed: number;
  created_at: string;
  finished_at: string | null;
};

export type RunOutcome = {
  status: string;
  vars: Record<string, unknown>;
  response: { status: number; headers: Record<string, unknown>; body: unknown } | null;
  error?: string | null;
};

export type ReplayItem = {
  run_id: string;
  replay_run_id: string | null;
  status: ReplayItemStatus;
  /** Null while the original run's outcome is not known. */
  original: RunOutcome | null;
  replay: RunOutcome | null;
  differences: { path: string; original: unknown; replay: unknown }[];
};

/** GET /replays/:id. */
export type Replay = ReplaySummary & { items: ReplayItem[] };

/** What a replay ran against: "version 3", "draft rev 2". */
export function replayTarget(r: Pick<ReplaySummary, 'version' | 'draft_revision'>): string {
  if (r.version !== null) return `version ${r.version}`;
  return r.draft_revision !== null ? `draft rev ${r.draft_revision}` : 'the draft';
}
