/**
 * Zoom: `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{x-zm-request-timestamp}:{rawBody}")>`
 * (the app's secret token), the timestamp (unix seconds) within 300 s of now.
 */
import type { z } from 'zod';
import { v0Scheme } from './hmac.ts';

export const ZOOM_TOLERANCE_S = 300;

export const { schema: zoomDataSchema, verifier: zoomVerifier } = v0Scheme(
  'x-zm-signature',
  'x-zm-request-timestamp',
  ZOOM_TOLERANCE_S,
);

export type ZoomData = z.output<typeof zoomDataSchema>;
