-- Foundation: tenants, API keys, credentials, flows, runs (with their trigger request),
-- idempotency keys, samples, and a small key/value table for instance metadata.
-- tenant_id leads every key so tables can later be distributed by tenant without query changes.

create table meta (
  key text primary key,
  value jsonb not null
);

create table tenants (
  id text primary key,
  name text not null,
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

insert into tenants (id, name) values ('default', 'Default');

create table api_keys (
  id text primary key,
  tenant_id text not null references tenants (id) on delete cascade,
  name text not null,
  key_hash bytea not null unique,
  key_prefix text not null,
  is_admin boolean not null default false,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index api_keys_tenant on api_keys (tenant_id);

create table credentials (
  tenant_id text not null references tenants (id) on delete cascade,
  id text not null,
  name text not null,
  type text not null,
  data_enc bytea not null,
  hint text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id)
);

create table flows (
  tenant_id text not null references tenants (id) on delete cascade,
  id text not null,
  name text not null,
  enabled boolean not null default true,
  nodes jsonb not null,
  edges jsonb not null,
  settings jsonb not null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id)
);

-- A run holds the trigger request it was started by (method, path, headers, query, parsed body)
-- and the raw bytes, so accepting a webhook is one INSERT.
create table runs (
  tenant_id text not null,
  id text not null,
  flow_id text not null,
  trigger_node_id text not null,
  status text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  trigger jsonb not null,
  raw_body bytea,
  nodes jsonb not null default '[]'::jsonb,
  vars jsonb not null default '{}'::jsonb,
  error text,
  attempts integer not null default 0,
  run_at timestamptz not null default now(),
  locked_until timestamptz,
  locked_by text,
  rerun_of text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  primary key (tenant_id, id)
);
-- Listing: newest first per tenant (ids are time-ordered: the primary key, read backwards), or per flow.
create index runs_tenant_flow_id_desc on runs (tenant_id, flow_id, id desc);
-- Workers: due work only, so the index stays small.
create index runs_due on runs (run_at) where status in ('queued', 'running');

create table idempotency_keys (
  tenant_id text not null,
  flow_id text not null,
  node_id text not null,
  key text not null,
  run_id text not null,
  response_status integer not null,
  response_headers jsonb not null,
  response_body bytea not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, flow_id, node_id, key)
);
create index idempotency_keys_expires on idempotency_keys (expires_at);

create table samples (
  tenant_id text not null,
  flow_id text not null,
  node_id text not null,
  listening_until timestamptz,
  request jsonb,
  captured_at timestamptz,
  primary key (tenant_id, flow_id, node_id),
  foreign key (tenant_id, flow_id) references flows (tenant_id, id) on delete cascade
);
