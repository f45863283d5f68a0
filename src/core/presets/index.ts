/**
 * Provider presets (docs/api.md §3.10): per well-known sender, the credential type that checks its
 * signature, the handshake it expects answered and what its deliveries are de-duplicated on.
 * Ingest goes through `getPreset` only; adding a sender means one file here and one registry entry.
 */
import { dropboxPreset } from './dropbox.ts';
import { githubPreset } from './github.ts';
import { gitlabPreset } from './gitlab.ts';
import { linearPreset } from './linear.ts';
import { metaPreset } from './meta.ts';
import { microsoftGraphPreset } from './microsoftGraph.ts';
import { shopifyPreset } from './shopify.ts';
import { slackPreset } from './slack.ts';
import { squarePreset } from './square.ts';
import { standardWebhooksPreset } from './standardWebhooks.ts';
import { stripePreset } from './stripe.ts';
import { svixPreset } from './svix.ts';
import { twilioPreset } from './twilio.ts';
import type { Preset } from './types.ts';
import { xPreset } from './x.ts';
import { zoomPreset } from './zoom.ts';

export type { HandshakeAnswer, Preset, PresetCredential, PresetRequest } from './types.ts';

export const PRESET_IDS = [
  'github',
  'gitlab',
  'stripe',
  'slack',
  'shopify',
  'twilio',
  'meta',
  'zoom',
  'x',
  'dropbox',
  'microsoft_graph',
  'svix',
  'standard_webhooks',
  'linear',
  'square',
] as const;
export type PresetId = (typeof PRESET_IDS)[number];

/** How long a preset remembers a delivery id (a node's own `idempotency` replaces it). */
export const PRESET_DEDUPE_WINDOW_S = 86_400;

/** Keyed by id; each entry's `id` is its key (the tests check). */
const presets: { readonly [K in PresetId]: Preset } = {
  github: githubPreset,
  gitlab: gitlabPreset,
  stripe: stripePreset,
  slack: slackPreset,
  shopify: shopifyPreset,
  twilio: twilioPreset,
  meta: metaPreset,
  zoom: zoomPreset,
  x: xPreset,
  dropbox: dropboxPreset,
  microsoft_graph: microsoftGraphPreset,
  svix: svixPreset,
  standard_webhooks: standardWebhooksPreset,
  linear: linearPreset,
  square: squarePreset,
};

export function getPreset(id: string | undefined): Preset | undefined {
  return id !== undefined && Object.hasOwn(presets, id) ? presets[id as PresetId] : undefined;
}

/** Every preset in `PRESET_IDS` order. */
export function listPresets(): Preset[] {
  return PRESET_IDS.map((id) => presets[id]);
}

/** The public description of a preset (`GET /api/v1/presets`): no behaviour. */
export function describePreset(p: Preset) {
  return {
    id: p.id,
    name: p.name,
    credential_type: p.credential_type,
    secret_fields: p.secret_fields,
    headers: p.headers,
    handshake: p.handshake,
    dedupe: p.dedupe,
    docs_url: p.docs_url,
    setup: p.setup,
  };
}

/**
 * The problem with a webhook node's `auth.type` under `preset`, or undefined: a preset with a
 * credential type needs auth of exactly that type.
 */
export function presetAuthProblem(id: string, authType: string): string | undefined {
  const p = getPreset(id);
  if (!p?.credential_type || p.credential_type === authType) return undefined;
  return `preset ${id} needs auth of type ${p.credential_type}`;
}
