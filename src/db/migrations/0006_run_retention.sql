-- The run retention purge (maintenance loop, purgeFinishedRuns): finished runs by the time they
-- finished. Partial, so queued and running runs — the workers' hot rows — add nothing to it.
create index runs_finished on runs (finished_at) where status in ('succeeded', 'failed', 'cancelled');
