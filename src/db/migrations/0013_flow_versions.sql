-- Flow versions (docs/api.md §3.11): every save of a flow is kept, immutable, as version n (the
-- flow's `version` after that save); a run records the version it runs, and a run resumed after
-- the flow changed goes on with the version it started on. Removed with the flow.
create table flow_versions (
  tenant_id text not null,
  flow_id text not null,
  version integer not null,
  name text not null,
  enabled boolean not null,
  nodes jsonb not null,
  edges jsonb not null,
  settings jsonb not null,
  created_at timestamptz not null default now(),
  created_by text,
  note text,
  primary key (tenant_id, flow_id, version),
  foreign key (tenant_id, flow_id) references flows (tenant_id, id) on delete cascade
);

-- The flows saved before versions were kept: their current state is their one known version.
insert into flow_versions (tenant_id, flow_id, version, name, enabled, nodes, edges, settings, created_at)
select tenant_id, id, version, name, enabled, nodes, edges, settings, updated_at from flows;

alter table runs add column flow_version integer;
