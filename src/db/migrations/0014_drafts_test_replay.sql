-- Drafts, test runs and shadow replay (docs/api.md §3.12–§3.14).
--
-- A draft is kept beside the flow without serving traffic. Every save of it is a revision, kept
-- immutable like a version (a test run or a replay pins the revision it runs); `flows.draft_revision`
-- names the current one (null: no draft). Removed with the flow.
create table flow_drafts (
  tenant_id text not null,
  flow_id text not null,
  revision integer not null,
  name text not null,
  nodes jsonb not null,
  edges jsonb not null,
  settings jsonb not null,
  -- the flow's version when this revision was saved
  base_version integer not null,
  created_at timestamptz not null default now(),
  created_by text,
  primary key (tenant_id, flow_id, revision),
  foreign key (tenant_id, flow_id) references flows (tenant_id, id) on delete cascade
);
alter table flows add column draft_revision integer;

-- A run's mode: null (production), 'test' (the test URL) or 'replay' (a shadow replay). Test and
-- replay runs hold their side effects back (events recorded, never delivered; no e-mail; no error
-- run). A run of a draft pins its revision, as a run of a version pins `flow_version`.
alter table runs add column mode text;
alter table runs add column draft_revision integer;
-- A replay run: its replay, and the original run whose stored request it runs again.
alter table runs add column replay_id text;
alter table runs add column replay_of text;
create index runs_tenant_mode_id on runs (tenant_id, mode, id desc) where mode is not null;

-- Events of test and replay runs: recorded (the run shows them), never fanned out to endpoints.
alter table events add column held boolean not null default false;

create or replace function hookflow_fan_out() returns trigger language plpgsql as $$
declare
  created integer;
begin
  insert into deliveries (tenant_id, id, message_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
  select e.tenant_id, 'dlv_' || substr(md5(e.id || ':' || ep.id), 1, 26), e.id, ep.id, 'pending',
         e.created_at, e.created_at, e.created_at
  from new_events e
  join endpoints ep on ep.tenant_id = e.tenant_id and ep.enabled
    and ('*' = any(ep.events) or e.event_type = any(ep.events)
         or (ep.is_default and (e.context->>'to_default') = 'true'))
    -- news of an endpoint's failure is not sent to that endpoint (it would only fail again)
    and not (e.event_type in ('message.attempt.exhausted', 'endpoint.disabled')
             and ep.id = e.context->>'endpoint_id')
  -- events of test and replay runs are held back
  where not e.held
  on conflict do nothing;
  get diagnostics created = row_count;
  if created > 0 then
    perform pg_notify('hookflow_deliveries', '');
  end if;
  return null;
end $$;

-- A shadow replay: stored requests of a flow run again against a version or a draft revision.
create table replays (
  tenant_id text not null,
  id text not null,
  flow_id text not null,
  version integer,
  draft_revision integer,
  status text not null default 'running',
  total integer not null,
  done integer not null default 0,
  same integer not null default 0,
  different integer not null default 0,
  failed integer not null default 0,
  -- items whose replay run was started: items are started in position order, so the next to start
  -- is at this position, and started - done are in flight
  started integer not null default 0,
  created_at timestamptz not null default now(),
  created_by text,
  finished_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, flow_id) references flows (tenant_id, id) on delete cascade
);
create index replays_running on replays (created_at) where status = 'running';
create index replays_flow on replays (tenant_id, flow_id, id desc);

-- Its items, one per original run, in report order: pending → running (its replay run exists) →
-- same | different | failed (compared).
create table replay_items (
  tenant_id text not null,
  replay_id text not null,
  position integer not null,
  run_id text not null,
  replay_run_id text not null,
  status text not null default 'pending',
  differences jsonb,
  primary key (tenant_id, replay_id, position),
  foreign key (tenant_id, replay_id) references replays (tenant_id, id) on delete cascade
);
create index replay_items_running on replay_items (tenant_id, replay_id) where status = 'running';
