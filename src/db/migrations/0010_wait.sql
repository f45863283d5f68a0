-- The wait node (docs/api.md §4.3, §4.7): a callback to a run's resume URL is stored here before it
-- is answered — one per run and wait node (the primary key makes a second call a 409) — and wakes
-- the run. A callback may come before the run reaches its wait (an API answering at once); the wait
-- node finds it here when it runs. Removed with its run.
create table run_resumes (
  tenant_id text not null,
  run_id text not null,
  node_id text not null,
  request jsonb not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, run_id, node_id),
  foreign key (tenant_id, run_id) references runs (tenant_id, id) on delete cascade
);

-- A callback stored while a worker held the run: the worker's next release (the wait going to
-- sleep) makes the run due at once instead of at its timeout, so no callback is missed.
alter table runs add column wake_pending boolean not null default false;
