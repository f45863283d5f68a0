/**
 * Outbound endpoints as /api/v1/endpoints shows them (docs/api.md §5.1): never a secret, only whether
 * one is stored.
 */

export type EndpointMethod = 'POST' | 'PUT' | 'PATCH';

export type EndpointAuthView =
  | { type: 'none' }
  | { type: 'basic'; username: string; has_password: boolean }
  | { type: 'api_key'; header: string; has_value: boolean }
  | { type: 'bearer'; has_token: boolean }
  | { type: 'basic' | 'api_key' | 'bearer'; credential_id: string };

export type Endpoint = {
  id: string;
  name: string;
  url: string;
  method: EndpointMethod;
  events: string[];
  auth: EndpointAuthView;
  headers: Record<string, string>;
  is_default: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  /** null or 1–100000 sends per second, across all processes. */
  rate_limit_per_s: number | null;
  /** 1–1000 attempts in flight at once to this endpoint, per delivery process (docs/api.md §5.7). */
  max_in_flight: number;
  circuit: EndpointCircuit;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
};

export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * The endpoint's circuit breaker (docs/api.md §5.7): after a run of failed attempts it opens and its
 * deliveries wait (without using attempts) until `until`, when one goes out as a probe (half open);
 * a 2xx closes it. `until` is set only while open, and may be past (the probe goes with the next due
 * delivery).
 */
export type EndpointCircuit = {
  state: CircuitState;
  consecutive_failures: number;
  until: string | null;
};

/** The default and the range of `max_in_flight`. */
export const MAX_IN_FLIGHT = { default: 10, min: 1, max: 1000 } as const;

export type EventType = { name: string; builtin: boolean };

/** The answer of POST /api/v1/endpoints/check: the ping reached the URL (`ok`) or why not. */
export type CheckResult = { ok: boolean; status: number | null; latency_ms: number; error: string | null };

/** "All events" for "*", else the types joined. */
export function eventsText(events: string[]): string {
  return events.includes('*') ? 'All events' : events.join(', ');
}
