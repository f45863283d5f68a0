/**
 * The registry of node types (docs/api.md §4.3, §4.6): one module per type, each its schema,
 * checks, executor and catalog entry. The flow document's validation, the run engine and
 * `GET /api/v1/node-types` (and through it the canvas) all read this list; adding a node type is
 * one folder here and its test.
 */

import { codeNode } from './code/index.ts';
import { delayNode } from './delay/index.ts';
import { emitNode } from './emit/index.ts';
import { failNode } from './fail/index.ts';
import { httpNode } from './http/index.ts';
import { ifNode } from './if/index.ts';
import { loopNode } from './loop/index.ts';
import { respondNode } from './respond/index.ts';
import { scheduleNode } from './schedule/index.ts';
import { setNode } from './set/index.ts';
import { subflowNode } from './subflow/index.ts';
import { switchNode } from './switch/index.ts';
import { transformNode } from './transform/index.ts';
import type { NodeCatalogEntry, NodeDefinition } from './types.ts';
import { waitNode } from './wait/index.ts';
import { webhookNode } from './webhook/index.ts';
import { webhookCallNode } from './webhook_call/index.ts';

/** In palette order. */
const DEFINITIONS: readonly NodeDefinition[] = [
  webhookNode,
  scheduleNode,
  setNode,
  ifNode,
  switchNode,
  loopNode,
  transformNode,
  codeNode,
  httpNode,
  webhookCallNode,
  subflowNode,
  emitNode,
  delayNode,
  waitNode,
  respondNode,
  failNode,
];

const BY_TYPE = new Map(DEFINITIONS.map((d) => [d.type, d]));

export const NODE_TYPES: readonly string[] = DEFINITIONS.map((d) => d.type);

export function getNodeDefinition(type: string): NodeDefinition | undefined {
  return BY_TYPE.get(type);
}

/** The catalog `GET /api/v1/node-types` serves, in palette order. */
export function nodeCatalog(): NodeCatalogEntry[] {
  return DEFINITIONS.map((d) => ({
    type: d.type,
    ...d.catalog,
    container: d.catalog.container ?? false,
    in_body: !d.catalog.trigger && !d.notInBody,
  }));
}
