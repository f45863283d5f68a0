/**
 * Shared types of the provider presets (docs/api.md §3.10). Kept apart from `./index.ts` so the preset
 * modules can import them without importing the registry.
 */
import type { CredentialType } from '../verify/index.ts';

/** The parts of an inbound request a preset looks at. Header names are lower case (Node style). */
export type PresetRequest = {
  method: string;
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  /** The parsed body (for JSON the value); absent for the answers given before the body is read. */
  body?: unknown;
};

/** A handshake's answer; the inbound route turns it into the HTTP response. No run is started. */
export type HandshakeAnswer =
  | { status: number; json: unknown }
  | { status: number; text: string; headers?: Record<string, string> };

/** The data of the node's credential, when it is of the preset's type (else `undefined`). */
export type PresetCredential = Record<string, unknown> | undefined;

export type Preset = {
  id: string;
  name: string;
  /** The credential type (and node `auth.type`) the preset needs; null: none needed. */
  credential_type: CredentialType | null;
  /** The fields of the credential's `data` the user fills in. */
  secret_fields: { key: string; label: string }[];
  /** The request headers the provider sends that matter (signature, timestamp, delivery id, event). */
  headers: string[];
  /** What the preset answers by itself, in a sentence; null: nothing. */
  handshake: string | null;
  /** What deliveries are de-duplicated on; null: they are not. */
  dedupe: string | null;
  docs_url: string;
  /** What to do at the provider and here, step by step: where the URL goes, where the secret comes from. */
  setup: string[];
  /** The delivery's id, the de-duplication key (no key: the delivery is not de-duplicated). */
  dedupeKey?: (req: PresetRequest) => string | undefined;
  /** Answered before the method and credential checks, without reading the body (GET handshakes). */
  answerBeforeAuth?: (req: PresetRequest, credential: PresetCredential) => HandshakeAnswer | undefined;
  /** Answered after the signature check and the body parse (handshakes the provider signs). */
  answerAfterAuth?: (req: PresetRequest, credential: PresetCredential) => HandshakeAnswer | undefined;
};
