-- The messages a run caused (GET /api/v1/messages?run_id=, the run detail screen of the admin UI):
-- every event a run writes carries its run in `context`. Without this index that filter reads
-- every event of the tenant.
create index events_tenant_run on events (tenant_id, (context ->> 'run_id'));
