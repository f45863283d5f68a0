-- Isolation of endpoints (docs/api.md §5.7): attempts in flight per endpoint and process, and a
-- circuit breaker per endpoint shared by every delivery worker.
alter table endpoints add column max_in_flight integer not null default 10
  check (max_in_flight between 1 and 1000);
-- closed: sending; open: nothing is sent before circuit_until; half_open: one probe is out, under a
-- lease that ends at circuit_until (a worker that died with it lets the next one probe).
alter table endpoints add column circuit_state text not null default 'closed'
  check (circuit_state in ('closed', 'open', 'half_open'));
-- Failed or timed-out attempts since the last success.
alter table endpoints add column circuit_failures integer not null default 0;
alter table endpoints add column circuit_until timestamptz;
-- The cool-down of the current (or last) opening, in seconds: 30, doubled by each failed probe,
-- at most 600; a success starts the next opening at 30 again.
alter table endpoints add column circuit_cooldown_s integer not null default 30;
-- The circuits a claim may probe, and the /metrics gauge of open circuits.
create index endpoints_circuit on endpoints (circuit_until) where circuit_state <> 'closed';

-- Fair claiming walks the endpoints that have due work, one index probe each, and takes each its
-- share in due order.
create index deliveries_due_endpoint on deliveries (tenant_id, endpoint_id, next_attempt_at)
  where status = 'pending';
-- Manual retries of an endpoint whose circuit is open are still sent: a claim finds them here
-- without walking that endpoint's whole backlog.
create index deliveries_manual on deliveries (tenant_id, endpoint_id, next_attempt_at)
  where status = 'pending' and manual;
