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
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
};

export type EventType = { name: string; builtin: boolean };

/** The answer of POST /api/v1/endpoints/check: the ping reached the URL (`ok`) or why not. */
export type CheckResult = { ok: boolean; status: number | null; latency_ms: number; error: string | null };

/** "All events" for "*", else the types joined. */
export function eventsText(events: string[]): string {
  return events.includes('*') ? 'All events' : events.join(', ');
}
