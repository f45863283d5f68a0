-- Sub-flows (docs/api.md §4.3, the subflow node): a run started by another run's subflow node names
-- its parent; the parent finds its children (the run detail links both ways) with this index, and
-- is woken when a child ends.
alter table runs add column parent_run_id text;
create index runs_parent on runs (tenant_id, parent_run_id) where parent_run_id is not null;
