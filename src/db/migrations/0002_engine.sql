-- The flow engine: run state beyond vars (flow keys, the respond node's answer), whether a sender
-- is waiting for that answer (response mode "flow"); events written by runs (emit, flow.completed,
-- flow.failed) for the outbound side; the event-type catalog; outbound endpoints (used mid-flow by
-- webhook_call; delivery builds on the same table).

alter table runs add column flow_key jsonb not null default '{}'::jsonb;
alter table runs add column response jsonb;
alter table runs add column wait_response boolean not null default false;

create table events (
  tenant_id text not null,
  id text not null,
  event_type text not null,
  data jsonb not null,
  context jsonb not null default '{}'::jsonb,
  source text not null default 'flow',
  created_at timestamptz not null default now(),
  primary key (tenant_id, id)
);
create index events_tenant_type_id on events (tenant_id, event_type, id desc);

create table event_types (
  tenant_id text not null,
  name text not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, name)
);

create table endpoints (
  tenant_id text not null references tenants (id) on delete cascade,
  id text not null,
  name text not null,
  url text not null,
  method text not null default 'POST' check (method in ('POST', 'PUT', 'PATCH')),
  events text[] not null default '{*}',
  -- {"type": "none" | "basic" | "api_key" | "bearer", "credential_id"?: "...", non-secret fields};
  -- the secret parts of inline auth are sealed in auth_secret_enc.
  auth jsonb not null default '{"type":"none"}'::jsonb,
  auth_secret_enc bytea,
  headers jsonb not null default '{}'::jsonb,
  is_default boolean not null default false,
  enabled boolean not null default true,
  rate_limit_per_s integer,
  body jsonb not null default '{"type":"envelope"}'::jsonb,
  retry_schedule integer[],
  secret_enc bytea not null,
  previous_secret_enc bytea,
  previous_secret_expires_at timestamptz,
  disabled_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id)
);
-- At most one default endpoint per tenant, enforced by the database.
create unique index endpoints_one_default on endpoints (tenant_id) where is_default;
