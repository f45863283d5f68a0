/**
 * One validated configuration object, read from the environment (and an optional JSON file named by
 * HOOKFLOW_CONFIG; the environment wins). A wrong value stops the process with a sentence naming the
 * variable — never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE_S } from './core/retry.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type Config = {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  bootstrapKey: string | undefined;
  secretKey: string | undefined;
  allowPrivateTargets: string[];
  smtpUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  maxBodyBytes: number;
  retrySchedule: number[];
  trustProxy: boolean;
  /** How long a worker holds a run before another may take it over (HOOKFLOW_RUN_LEASE_MS). */
  runLeaseMs: number;
  /** How long a delivery worker holds a batch (HOOKFLOW_DELIVERY_LEASE_MS); requests time out before it ends. */
  deliveryLeaseMs: number;
  /** An endpoint whose every attempt has failed this long is disabled (HOOKFLOW_DISABLE_ENDPOINT_AFTER_DAYS). */
  disableEndpointAfterMs: number;
  /** Consecutive failed attempts that open an endpoint's circuit (HOOKFLOW_CIRCUIT_FAILURES). */
  circuitFailures: number;
  /** An open circuit's first cool-down in seconds, doubled per failed probe up to 600 (HOOKFLOW_CIRCUIT_COOLDOWN_S). */
  circuitCooldownS: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (HOOKFLOW_METRICS_TOKEN). */
  metricsToken: string | undefined;
  /** A request whose headers and body have not all arrived after this long is cut off with a 408 (HOOKFLOW_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
};

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const port = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number between 0 and 65535`)
    .transform(Number)
    .refine((n) => n >= 0 && n <= 65535, `${name} must be a whole number between 0 and 65535`);

function fromEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  let file: Record<string, unknown> = {};
  if (env.HOOKFLOW_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.HOOKFLOW_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(
        'HOOKFLOW_CONFIG',
        `cannot read ${env.HOOKFLOW_CONFIG} as JSON (${(err as Error).message})`,
      );
    }
    if (file === null || typeof file !== 'object' || Array.isArray(file))
      throw new ConfigError('HOOKFLOW_CONFIG', 'the file must hold one JSON object of VARIABLE: value pairs');
  }
  const merged: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(file))
    merged[k] = v === null || v === undefined ? undefined : String(v);
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}

/** Parses and validates the configuration; throws ConfigError naming the first wrong variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = fromEnv(env);
  const pick = <T>(name: string, schema: z.ZodType<T>, value: string | undefined): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new ConfigError(name, r.error.issues[0]?.message ?? 'invalid value');
    return r.data;
  };

  const portNum = pick('PORT', port('PORT'), e.PORT ?? '8787');
  const host = pick(
    'HOST',
    z
      .string()
      .refine((h) => isIP(h) !== 0 || /^[a-zA-Z0-9.-]+$/.test(h), 'HOST must be an IP address or host name'),
    e.HOST ?? '127.0.0.1',
  );
  const defaultPublic = `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${portNum}`;
  const publicUrl = pick(
    'PUBLIC_URL',
    z
      .string()
      .refine((u) => {
        try {
          const p = new URL(u);
          return p.protocol === 'http:' || p.protocol === 'https:';
        } catch {
          return false;
        }
      }, 'PUBLIC_URL must be an absolute http(s) URL such as https://hooks.example.com')
      .transform((u) => u.replace(/\/+$/, '')),
    e.PUBLIC_URL ?? defaultPublic,
  );
  const databaseUrl = e.DATABASE_URL
    ? pick(
        'DATABASE_URL',
        z
          .string()
          .refine(
            (u) => /^postgres(ql)?:\/\//.test(u),
            'DATABASE_URL must be a postgres:// or postgresql:// connection URL',
          ),
        e.DATABASE_URL,
      )
    : undefined;
  const dataDir = path.resolve(e.DATA_DIR ?? './data');
  const bootstrapKey = e.HOOKFLOW_BOOTSTRAP_KEY
    ? pick(
        'HOOKFLOW_BOOTSTRAP_KEY',
        z.string().min(24, 'HOOKFLOW_BOOTSTRAP_KEY must be at least 24 characters long'),
        e.HOOKFLOW_BOOTSTRAP_KEY,
      )
    : undefined;
  const secretKey = e.HOOKFLOW_SECRET_KEY
    ? pick(
        'HOOKFLOW_SECRET_KEY',
        z
          .string()
          .refine(
            (k) => decodeKey(k) !== undefined,
            'HOOKFLOW_SECRET_KEY must be 32 bytes written as 64 hex characters or base64 (openssl rand -base64 32)',
          ),
        e.HOOKFLOW_SECRET_KEY,
      )
    : undefined;
  const allowPrivateTargets = e.HOOKFLOW_ALLOW_PRIVATE_TARGETS
    ? e.HOOKFLOW_ALLOW_PRIVATE_TARGETS.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  for (const entry of allowPrivateTargets) {
    if (!isCidrOrHost(entry))
      throw new ConfigError(
        'HOOKFLOW_ALLOW_PRIVATE_TARGETS',
        `"${entry}" is neither a CIDR (10.0.0.0/8, ::1/128), an IP address nor a host name`,
      );
  }
  const smtpUrl = e.SMTP_URL
    ? pick(
        'SMTP_URL',
        z.string().regex(/^smtps?:\/\//, 'SMTP_URL must look like smtp://user:pass@host:587 or smtps://…'),
        e.SMTP_URL,
      )
    : undefined;
  const logLevel = pick(
    'LOG_LEVEL',
    z.enum(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }),
    (e.LOG_LEVEL ?? 'info').toLowerCase(),
  );
  const maxBodyBytes = pick(
    'HOOKFLOW_MAX_BODY_BYTES',
    z
      .string()
      .regex(/^\d+$/, 'HOOKFLOW_MAX_BODY_BYTES must be a whole number of bytes')
      .transform(Number)
      .refine(
        (n) => n >= 1024 && n <= 100 * 1024 * 1024,
        'HOOKFLOW_MAX_BODY_BYTES must be between 1024 and 104857600',
      ),
    e.HOOKFLOW_MAX_BODY_BYTES ?? String(1024 * 1024),
  );
  const retrySchedule = e.HOOKFLOW_RETRY_SCHEDULE
    ? pick(
        'HOOKFLOW_RETRY_SCHEDULE',
        z
          .string()
          .transform((s) => s.split(',').map((x) => x.trim()))
          .refine(
            (xs) => xs.length > 0 && xs.every((x) => /^\d+(\.\d+)?$/.test(x)),
            'HOOKFLOW_RETRY_SCHEDULE must be a comma list of seconds, e.g. 0,5,300,1800',
          )
          .transform((xs) => xs.map(Number)),
        e.HOOKFLOW_RETRY_SCHEDULE,
      )
    : DEFAULT_RETRY_SCHEDULE_S;
  const trustProxy = pick(
    'HOOKFLOW_TRUST_PROXY',
    z.enum(['true', 'false', '1', '0'], { message: 'HOOKFLOW_TRUST_PROXY must be true or false' }),
    e.HOOKFLOW_TRUST_PROXY ?? 'false',
  );

  const runLeaseMs = pick(
    'HOOKFLOW_RUN_LEASE_MS',
    z
      .string()
      .regex(/^\d+$/, 'HOOKFLOW_RUN_LEASE_MS must be a whole number of milliseconds')
      .transform(Number)
      .refine((n) => n >= 1000 && n <= 3_600_000, 'HOOKFLOW_RUN_LEASE_MS must be between 1000 and 3600000'),
    e.HOOKFLOW_RUN_LEASE_MS ?? '30000',
  );

  const disableDays = pick(
    'HOOKFLOW_DISABLE_ENDPOINT_AFTER_DAYS',
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'HOOKFLOW_DISABLE_ENDPOINT_AFTER_DAYS must be a number of days, e.g. 5 or 0.5')
      .transform(Number)
      .refine((n) => n > 0 && n <= 365, 'HOOKFLOW_DISABLE_ENDPOINT_AFTER_DAYS must be between 0 and 365'),
    e.HOOKFLOW_DISABLE_ENDPOINT_AFTER_DAYS ?? '5',
  );

  const deliveryLeaseMs = pick(
    'HOOKFLOW_DELIVERY_LEASE_MS',
    z
      .string()
      .regex(/^\d+$/, 'HOOKFLOW_DELIVERY_LEASE_MS must be a whole number of milliseconds')
      .transform(Number)
      .refine(
        (n) => n >= 2000 && n <= 3_600_000,
        'HOOKFLOW_DELIVERY_LEASE_MS must be between 2000 and 3600000',
      ),
    e.HOOKFLOW_DELIVERY_LEASE_MS ?? '60000',
  );

  const metricsToken = e.HOOKFLOW_METRICS_TOKEN
    ? pick(
        'HOOKFLOW_METRICS_TOKEN',
        z
          .string()
          .regex(
            /^[\x21-\x7e]{16,512}$/,
            'HOOKFLOW_METRICS_TOKEN must be 16 to 512 printable ASCII characters without spaces (openssl rand -hex 24)',
          ),
        e.HOOKFLOW_METRICS_TOKEN,
      )
    : undefined;

  const requestTimeoutMs = pick(
    'HOOKFLOW_REQUEST_TIMEOUT_MS',
    z
      .string()
      .regex(/^\d+$/, 'HOOKFLOW_REQUEST_TIMEOUT_MS must be a whole number of milliseconds')
      .transform(Number)
      .refine(
        (n) => n >= 500 && n <= 3_600_000,
        'HOOKFLOW_REQUEST_TIMEOUT_MS must be between 500 and 3600000',
      ),
    e.HOOKFLOW_REQUEST_TIMEOUT_MS ?? '30000',
  );

  const whole = (name: string, min: number, max: number, fallback: string) =>
    pick(
      name,
      z
        .string()
        .regex(/^\d+$/, `${name} must be a whole number`)
        .transform(Number)
        .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`),
      e[name] ?? fallback,
    );
  const circuitFailures = whole('HOOKFLOW_CIRCUIT_FAILURES', 1, 1000, '5');
  const circuitCooldownS = whole('HOOKFLOW_CIRCUIT_COOLDOWN_S', 1, 600, '30');

  return {
    circuitFailures,
    circuitCooldownS,
    metricsToken,
    requestTimeoutMs,
    deliveryLeaseMs,
    disableEndpointAfterMs: Math.round(disableDays * 86_400_000),
    runLeaseMs,
    port: portNum,
    host,
    publicUrl,
    databaseUrl,
    dataDir,
    bootstrapKey,
    secretKey,
    allowPrivateTargets,
    smtpUrl,
    logLevel,
    maxBodyBytes,
    retrySchedule,
    trustProxy: trustProxy === 'true' || trustProxy === '1',
  };
}

/** 32-byte key from 64 hex chars or base64(url); undefined when it is neither. */
export function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const b = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

function isCidrOrHost(entry: string): boolean {
  const [addr, bits, ...rest] = entry.split('/');
  if (rest.length) return false;
  if (bits !== undefined) {
    const v = isIP(addr);
    if (!v || !/^\d+$/.test(bits)) return false;
    return Number(bits) <= (v === 4 ? 32 : 128);
  }
  return isIP(addr) !== 0 || /^[a-zA-Z0-9.-]+$/.test(addr);
}
