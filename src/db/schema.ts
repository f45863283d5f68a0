/** Kysely table types. Keep in step with migrations/*.sql. */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

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
  created_at: Timestamp;
  updated_at: Timestamp;
}

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
  error: string | null;
  attempts: Generated<number>;
  run_at: Timestamp;
  locked_until: Date | null;
  locked_by: string | null;
  rerun_of: string | null;
  created_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
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

export interface DB {
  meta: MetaTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  credentials: CredentialsTable;
  flows: FlowsTable;
  runs: RunsTable;
  idempotency_keys: IdempotencyKeysTable;
  samples: SamplesTable;
}
