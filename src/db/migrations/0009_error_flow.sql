-- Error flows (docs/api.md §4.4, flow setting `error_flow_id`): a run started because a run of
-- another flow failed names that run; the failed run records what became of its error run
-- ({flow_id, run_id} or {flow_id, run_id: null, skipped}). Both null for every other run.
alter table runs add column error_of_run_id text;
alter table runs add column error_flow jsonb;
