-- Outbound delivery. A message is an event row (one message per event); a delivery is that
-- message's journey to one endpoint; an attempt is one HTTP request of a delivery.

create table deliveries (
  tenant_id text not null,
  id text not null,
  message_id text not null,
  endpoint_id text not null,
  -- pending: will be tried at next_attempt_at; delivered; failed: retries exhausted, a manual retry
  -- failed, or the endpoint was disabled; cancelled: the endpoint was deleted
  status text not null check (status in ('pending', 'delivered', 'failed', 'cancelled')),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  locked_until timestamptz,
  locked_by text,
  -- a manual retry is tried once and not rescheduled
  manual boolean not null default false,
  last_response_status integer,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  delivered_at timestamptz,
  primary key (tenant_id, id)
);
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
create index deliveries_message on deliveries (tenant_id, message_id);
create index deliveries_endpoint on deliveries (tenant_id, endpoint_id, id desc);

create table attempts (
  tenant_id text not null,
  id text not null,
  delivery_id text not null,
  message_id text not null,
  endpoint_id text not null,
  status text not null check (status in ('succeeded', 'failed')),
  response_status integer,
  response_body text,
  duration_ms integer not null,
  error text,
  manual boolean not null default false,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id)
);
create index attempts_message on attempts (tenant_id, message_id, id);
create index attempts_endpoint on attempts (tenant_id, endpoint_id, id desc);

-- Since when every attempt to an endpoint has failed (null after any success): auto-disable.
alter table endpoints add column failing_since timestamptz;

-- Rate limits shared by every delivery worker: one row per endpoint and second.
create table endpoint_rate (
  tenant_id text not null,
  endpoint_id text not null,
  second bigint not null,
  sent integer not null,
  -- how many the last taker got (computed from the row it replaced, so concurrent takers agree)
  granted integer not null default 0,
  primary key (tenant_id, endpoint_id)
);


-- Fan-out, in the transaction that writes the events, wherever they are written from: one
-- delivery per subscribed, enabled endpoint ("*" or the event's type); an event marked
-- context.to_default (a flow with send_to_default_webhook) also goes to the tenant's default
-- endpoint. The delivery id is derived from (message, endpoint), so a message reaches an endpoint
-- once. Delivery workers are woken by NOTIFY.
create function hookflow_fan_out() returns trigger language plpgsql as $$
declare
  created integer;
begin
  insert into deliveries (tenant_id, id, message_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
  select e.tenant_id, 'dlv_' || substr(md5(e.id || ':' || ep.id), 1, 26), e.id, ep.id, 'pending',
         e.created_at, e.created_at, e.created_at
  from new_events e
  join endpoints ep on ep.tenant_id = e.tenant_id and ep.enabled
    and ('*' = any(ep.events) or e.event_type = any(ep.events)
         or (ep.is_default and (e.context->>'to_default') = 'true'))
    -- news of an endpoint's failure is not sent to that endpoint (it would only fail again)
    and not (e.event_type in ('message.attempt.exhausted', 'endpoint.disabled')
             and ep.id = e.context->>'endpoint_id')
  on conflict do nothing;
  get diagnostics created = row_count;
  if created > 0 then
    perform pg_notify('hookflow_deliveries', '');
  end if;
  return null;
end $$;

create trigger events_fan_out after insert on events
  referencing new table as new_events
  for each statement execute function hookflow_fan_out();

-- Retention purges walk these.
create index attempts_created on attempts (created_at);
create index deliveries_created on deliveries (created_at);
create index events_created on events (created_at);
