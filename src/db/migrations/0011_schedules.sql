-- The schedule trigger (docs/api.md §4.8). `schedules` holds each schedule node of a flow as the
-- flow was last saved (written in the flow's own transaction): its cron, time zone and catch-up, the
-- time the schedule began to count (`anchor_at`: when it appeared, changed, or its flow was
-- enabled — no tick before it runs), and the last tick taken or skipped. The scheduler of every run
-- worker reads it; removed with its flow.
create table schedules (
  tenant_id text not null,
  flow_id text not null,
  node_id text not null,
  cron text not null,
  timezone text not null,
  catch_up text not null,
  anchor_at timestamptz not null,
  last_tick_at timestamptz,
  primary key (tenant_id, flow_id, node_id),
  foreign key (tenant_id, flow_id) references flows (tenant_id, id) on delete cascade
);

-- A claimed tick: the scheduler inserts the tick and its run in one statement, and only when the
-- tick row was new, so processes racing on a tick start one run. Purged a day after the tick by
-- the maintenance loop (the last tick of each schedule stays in `schedules`).
create table schedule_ticks (
  tenant_id text not null,
  flow_id text not null,
  node_id text not null,
  tick_at timestamptz not null,
  run_id text not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, flow_id, node_id, tick_at)
);
create index schedule_ticks_tick_at on schedule_ticks (tick_at);
