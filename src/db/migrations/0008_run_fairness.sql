-- Fair claiming of runs across tenants (docs/api.md §4.4): a claim walks the tenants that have
-- queued or running runs with a loose index scan (one probe per tenant) and takes each tenant's
-- oldest due runs from the same index. Partial, like runs_due: finished runs add nothing to it.
create index runs_due_tenant on runs (tenant_id, run_at) where status in ('queued', 'running');
-- Counting a tenant's (and its flows') running runs for `max_concurrent_runs` and
-- `max_concurrency`, under the claim's advisory lock.
create index runs_running_tenant on runs (tenant_id) where status = 'running';
