-- The large documents — a run's trigger, node records and raw body, an event's data — are
-- compressed with lz4 where the server was built with it (PostgreSQL 14+ usually is): about three
-- times cheaper than the default pglz when a flow.completed event with full run details is written
-- (20k such 2.2 KB events: 560 ms with pglz, 190 ms with lz4 on our bench machine). Servers
-- without lz4 keep pglz.
do $$
begin
  alter table events alter column data set compression lz4;
  alter table runs alter column trigger set compression lz4;
  alter table runs alter column nodes set compression lz4;
  alter table runs alter column raw_body set compression lz4;
exception
  when feature_not_supported or undefined_object then
    raise notice 'lz4 compression is not available; keeping the default';
end $$;
