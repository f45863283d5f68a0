/** Kysely table types. Keep in step with migrations/*.sql. */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface MetaTable {
  key: string;
  value: Json;
}

export interface TenantsTable {
  id: string;
  name: string;
  settings: ColumnType<TenantSettings, string | undefined, string>;
  created_at: Timestamp;
}

export type TenantSettings = {
  ip_allowlist?: string[];
  retention_days?: number;
  /** Days finished runs are kept; null keeps them for good; absent = 30. */
  run_retention_days?: number | null;
  /** Runs of the tenant running at once, across processes; null or absent: no cap. */
  max_concurrent_runs?: number | null;
  notify?: { emails?: string[] };
};

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  key_hash: Buffer;
  key_prefix: string;
  is_admin: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CredentialsTable {
  tenant_id: string;
  id: string;
  name: string;
  type: string;
  data_enc: Buffer;
  hint: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FlowsTable {
  tenant_id: string;
  id: string;
  name: string;
  enabled: boolean;
  nodes: Json<unknown[]>;
  edges: Json<unknown[]>;
  settings: Json<Record<string, unknown>>;
  version: ColumnType<number, number | undefined, number>;
  /** The current draft's revision (flow_drafts), null: no draft. */
  draft_revision: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type RunMode = 'test' | 'replay';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunsTable {
  tenant_id: string;
  id: string;
  flow_id: string;
  trigger_node_id: string;
  status: RunStatus;
  trigger: Json<Record<string, unknown>>;
  raw_body: Buffer | null;
  nodes: ColumnType<unknown[], string | undefined, string>;
  vars: ColumnType<Record<string, unknown>, string | undefined, string>;
  flow_key: ColumnType<Record<string, unknown>, string | undefined, string>;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  wait_response: ColumnType<boolean, boolean | undefined, boolean>;
  error: string | null;
  attempts: Generated<number>;
  run_at: Timestamp;
  locked_until: Date | null;
  locked_by: string | null;
  rerun_of: string | null;
  /** An error run (flow setting error_flow_id): the failed run that started it. */
  error_of_run_id: string | null;
  /** A failed run of a flow with an error flow: {flow_id, run_id} or {flow_id, run_id: null, skipped}. */
  error_flow: ColumnType<unknown, string | null | undefined, string | null>;
  /** A run started by a subflow node: the run whose node started it. */
  parent_run_id: string | null;
  /** The version of its flow the run executes (set when it first runs; kept when the flow changes). */
  flow_version: number | null;
  /** A wait's callback came while a worker held the run: its next release makes it due at once. */
  wake_pending: Generated<boolean>;
  /** null: production; 'test': a test-URL run; 'replay': a shadow replay's run (side effects held). */
  mode: ColumnType<RunMode | null, RunMode | null | undefined, RunMode | null>;
  /** The draft revision the run executes (a test or replay run of a draft). */
  draft_revision: ColumnType<number | null, number | null | undefined, number | null>;
  /** A replay run: its replay and the original run it runs again. */
  replay_id: ColumnType<string | null, string | null | undefined, string | null>;
  replay_of: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
}

/** A flow's draft revisions, immutable; flows.draft_revision names the current one. */
export interface FlowDraftsTable {
  tenant_id: string;
  flow_id: string;
  revision: number;
  name: string;
  nodes: Json<unknown[]>;
  edges: Json<unknown[]>;
  settings: Json<Record<string, unknown>>;
  base_version: number;
  created_at: Timestamp;
  created_by: string | null;
}

export type ReplayStatus = 'running' | 'done';
export type ReplayItemStatus = 'pending' | 'running' | 'same' | 'different' | 'failed';

export interface ReplaysTable {
  tenant_id: string;
  id: string;
  flow_id: string;
  version: number | null;
  draft_revision: number | null;
  status: ColumnType<ReplayStatus, ReplayStatus | undefined, ReplayStatus>;
  total: number;
  done: Generated<number>;
  same: Generated<number>;
  different: Generated<number>;
  failed: Generated<number>;
  /** Items whose replay run was started (in position order). */
  started: Generated<number>;
  created_at: Timestamp;
  created_by: string | null;
  finished_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface ReplayItemsTable {
  tenant_id: string;
  replay_id: string;
  position: number;
  run_id: string;
  replay_run_id: string;
  status: ColumnType<ReplayItemStatus, ReplayItemStatus | undefined, ReplayItemStatus>;
  differences: ColumnType<unknown, string | null | undefined, string | null>;
}

/** Every save of a flow, immutable: version n is the flow as its n-th save left it. */
export interface FlowVersionsTable {
  tenant_id: string;
  flow_id: string;
  version: number;
  name: string;
  enabled: boolean;
  nodes: Json<unknown[]>;
  edges: Json<unknown[]>;
  settings: Json<Record<string, unknown>>;
  created_at: Timestamp;
  created_by: string | null;
  note: string | null;
}

/** A callback to a run's resume URL (the wait node), stored before it was answered. */
export interface RunResumesTable {
  tenant_id: string;
  run_id: string;
  node_id: string;
  request: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

/** A schedule node of a flow as last saved (docs/api.md §4.8). */
export interface SchedulesTable {
  tenant_id: string;
  flow_id: string;
  node_id: string;
  cron: string;
  timezone: string;
  catch_up: string;
  anchor_at: Timestamp;
  last_tick_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A tick of a schedule node, claimed with the run it started. */
export interface ScheduleTicksTable {
  tenant_id: string;
  flow_id: string;
  node_id: string;
  tick_at: Timestamp;
  run_id: string;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  tenant_id: string;
  flow_id: string;
  node_id: string;
  key: string;
  run_id: string;
  response_status: number;
  response_headers: Json<Record<string, string>>;
  response_body: Buffer;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface SamplesTable {
  tenant_id: string;
  flow_id: string;
  node_id: string;
  listening_until: Date | null;
  request: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  captured_at: Date | null;
}

/** `endpoints.auth`: the non-secret part; inline secrets are sealed in `auth_secret_enc`. */
export type EndpointAuthRow =
  | { type: 'none' }
  | { type: 'basic'; username?: string; credential_id?: string }
  | { type: 'api_key'; header?: string; credential_id?: string }
  | { type: 'bearer'; credential_id?: string };

export type EndpointBodyRow = { type: 'envelope' } | { type: 'template'; template: string };

export interface EndpointsTable {
  tenant_id: string;
  id: string;
  name: string;
  url: string;
  method: ColumnType<
    'POST' | 'PUT' | 'PATCH',
    'POST' | 'PUT' | 'PATCH' | undefined,
    'POST' | 'PUT' | 'PATCH'
  >;
  events: ColumnType<string[], string[] | undefined, string[]>;
  auth: ColumnType<EndpointAuthRow, string | undefined, string>;
  auth_secret_enc: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
  headers: ColumnType<Record<string, string>, string | undefined, string>;
  is_default: ColumnType<boolean, boolean | undefined, boolean>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  rate_limit_per_s: ColumnType<number | null, number | null | undefined, number | null>;
  body: ColumnType<EndpointBodyRow, string | undefined, string>;
  retry_schedule: ColumnType<number[] | null, number[] | null | undefined, number[] | null>;
  max_in_flight: ColumnType<number, number | undefined, number>;
  circuit_state: ColumnType<CircuitState, CircuitState | undefined, CircuitState>;
  circuit_failures: ColumnType<number, number | undefined, number>;
  circuit_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  circuit_cooldown_s: ColumnType<number, number | undefined, number>;
  secret_enc: Buffer;
  previous_secret_enc: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
  previous_secret_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  tenant_id: string;
  id: string;
  event_type: string;
  data: Json;
  context: Json<Record<string, unknown>>;
  source: string;
  /** An event of a test or replay run: recorded, never delivered. */
  held: Generated<boolean>;
  created_at: Timestamp;
}

export interface EventTypesTable {
  tenant_id: string;
  name: string;
  created_at: Timestamp;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface DeliveriesTable {
  tenant_id: string;
  id: string;
  message_id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  locked_by: ColumnType<string | null, string | null | undefined, string | null>;
  manual: Generated<boolean>;
  last_response_status: ColumnType<number | null, number | null | undefined, number | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AttemptsTable {
  tenant_id: string;
  id: string;
  delivery_id: string;
  message_id: string;
  endpoint_id: string;
  status: 'succeeded' | 'failed';
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  manual: Generated<boolean>;
  created_at: Timestamp;
}

export interface DB {
  meta: MetaTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  credentials: CredentialsTable;
  flows: FlowsTable;
  runs: RunsTable;
  flow_versions: FlowVersionsTable;
  flow_drafts: FlowDraftsTable;
  replays: ReplaysTable;
  replay_items: ReplayItemsTable;
  run_resumes: RunResumesTable;
  schedules: SchedulesTable;
  schedule_ticks: ScheduleTicksTable;
  idempotency_keys: IdempotencyKeysTable;
  samples: SamplesTable;
  events: EventsTable;
  event_types: EventTypesTable;
  endpoints: EndpointsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
}
