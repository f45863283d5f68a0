/**
 * The `webhook_call` node's effect (docs/api.md §4.3): call a configured outbound endpoint mid-flow with a
 * signed JSON body `{"method", "params", "run_id", "flow_id", "node_id"}` and hand the answer back
 * to the engine, which decides what a non-2xx means. Always through the SSRF-guarded client.
 */
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import type { WebhookCallRequest } from '../flows/engine.ts';
import { buildEndpointRequest } from './endpoints/outbound.ts';
import { loadEndpointForSending } from './endpoints/store.ts';
import type { OutboundClient, OutboundResponse } from './httpClient.ts';

export const WEBHOOK_CALL_TIMEOUT_MS = 15_000;
export const WEBHOOK_CALL_MAX_RESPONSE_BYTES = 1024 * 1024;

export type WebhookCallerDeps = {
  database: Database;
  secretKey: Buffer;
  client: OutboundClient;
  now?: () => number;
};

export function createWebhookCaller(
  deps: WebhookCallerDeps,
): (tenantId: string, call: WebhookCallRequest) => Promise<OutboundResponse> {
  const now = deps.now ?? Date.now;
  return async (tenantId, call) => {
    const nowMs = now();
    const endpoint = await loadEndpointForSending(
      deps.database,
      deps.secretKey,
      tenantId,
      call.endpointId,
      nowMs,
    );
    if (!endpoint) throw new Error(`endpoint "${call.endpointId}" does not exist`);
    if (!endpoint.enabled) throw new Error(`endpoint "${call.endpointId}" is disabled`);
    const payload = JSON.stringify({
      method: call.methodName ?? null,
      params: call.params,
      run_id: call.runId,
      flow_id: call.flowId,
      node_id: call.nodeId,
    });
    const { url, headers } = buildEndpointRequest(endpoint, {
      id: newId('msg'),
      timestamp: new Date(nowMs),
      payload,
    });
    return deps.client.request({
      method: endpoint.method,
      url,
      headers,
      body: payload,
      timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
      maxResponseBytes: WEBHOOK_CALL_MAX_RESPONSE_BYTES,
      onOversize: 'error',
    });
  };
}
