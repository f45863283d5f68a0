import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, decodeKey, loadConfig } from './config.ts';

/** The ConfigError `fn` throws; fails the test when it throws nothing or something else. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const HEX_KEY = 'ab'.repeat(32);
const B64_KEY = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig defaults', () => {
  it('uses PORT 8787, HOST 127.0.0.1, a PUBLIC_URL derived from them and ./data resolved', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8787);
    expect(c.host).toBe('127.0.0.1');
    expect(c.publicUrl).toBe('http://127.0.0.1:8787');
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.bootstrapKey).toBeUndefined();
    expect(c.secretKey).toBeUndefined();
    expect(c.allowPrivateTargets).toEqual([]);
    expect(c.smtpUrl).toBeUndefined();
    expect(c.logLevel).toBe('info');
    expect(c.maxBodyBytes).toBe(1024 * 1024);
    expect(c.retrySchedule.length).toBeGreaterThan(0);
    expect(c.trustProxy).toBe(false);
    expect(c.metricsToken).toBeUndefined();
    expect(c.requestTimeoutMs).toBe(30_000);
  });

  it('does not read process.env when an environment is passed', () => {
    const saved = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadConfig({}).port).toBe(8787);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('derives PUBLIC_URL from PORT and HOST', () => {
    expect(loadConfig({ PORT: '9000' }).publicUrl).toBe('http://127.0.0.1:9000');
    expect(loadConfig({ HOST: 'hooks.internal', PORT: '80' }).publicUrl).toBe('http://hooks.internal:80');
    // 0.0.0.0 is where to listen, not an address to show users.
    expect(loadConfig({ HOST: '0.0.0.0' }).publicUrl).toBe('http://127.0.0.1:8787');
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:8787');
  });

  it('takes PUBLIC_URL as given, without a trailing slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://hooks.example.com/' }).publicUrl).toBe(
      'https://hooks.example.com',
    );
    expect(loadConfig({ PUBLIC_URL: 'https://example.com/hookflow' }).publicUrl).toBe(
      'https://example.com/hookflow',
    );
  });

  it('resolves a relative DATA_DIR to an absolute path', () => {
    expect(loadConfig({ DATA_DIR: 'some/dir' }).dataDir).toBe(path.resolve('some/dir'));
    expect(loadConfig({ DATA_DIR: '/var/lib/hookflow' }).dataDir).toBe('/var/lib/hookflow');
  });

  it('treats an empty value as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '', LOG_LEVEL: '' });
    expect(c.port).toBe(8787);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.logLevel).toBe('info');
  });
});

describe('loadConfig accepts good values', () => {
  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://hooks.example.com',
      DATABASE_URL: 'postgresql://u:p@db:5432/hookflow',
      DATA_DIR: '/tmp/hf',
      HOOKFLOW_BOOTSTRAP_KEY: 'x'.repeat(24),
      HOOKFLOW_SECRET_KEY: HEX_KEY,
      HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32, ::1/128,10.0.0.5, internal.example',
      SMTP_URL: 'smtp://user:pass@mail:587',
      LOG_LEVEL: 'DEBUG',
      HOOKFLOW_MAX_BODY_BYTES: '2048',
      HOOKFLOW_RETRY_SCHEDULE: '0, 1.5,60',
      HOOKFLOW_TRUST_PROXY: '1',
      HOOKFLOW_METRICS_TOKEN: 'metrics-0123456789abcdef',
    });
    expect(c).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      publicUrl: 'https://hooks.example.com',
      databaseUrl: 'postgresql://u:p@db:5432/hookflow',
      dataDir: '/tmp/hf',
      bootstrapKey: 'x'.repeat(24),
      secretKey: HEX_KEY,
      allowPrivateTargets: ['127.0.0.1/32', '::1/128', '10.0.0.5', 'internal.example'],
      smtpUrl: 'smtp://user:pass@mail:587',
      logLevel: 'debug',
      maxBodyBytes: 2048,
      retrySchedule: [0, 1.5, 60],
      trustProxy: true,
      metricsToken: 'metrics-0123456789abcdef',
    });
  });

  it('accepts a base64 secret key and postgres:// URLs', () => {
    expect(loadConfig({ HOOKFLOW_SECRET_KEY: B64_KEY }).secretKey).toBe(B64_KEY);
    expect(decodeKey(B64_KEY)?.length).toBe(32);
    expect(decodeKey(HEX_KEY)?.length).toBe(32);
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x' }).databaseUrl).toBe('postgres://localhost/x');
  });
});

describe('loadConfig rejects every wrong value with a ConfigError naming the variable', () => {
  const cases: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['HOST', { HOST: 'bad host!' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'ftp://x' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'hooks.example.com' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/db' }],
    ['HOOKFLOW_SECRET_KEY', { HOOKFLOW_SECRET_KEY: 'short' }],
    ['HOOKFLOW_SECRET_KEY', { HOOKFLOW_SECRET_KEY: 'ab'.repeat(31) }],
    ['HOOKFLOW_ALLOW_PRIVATE_TARGETS', { HOOKFLOW_ALLOW_PRIVATE_TARGETS: 'not a cidr/' }],
    ['HOOKFLOW_ALLOW_PRIVATE_TARGETS', { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32,10.0.0.0/33' }],
    ['HOOKFLOW_ALLOW_PRIVATE_TARGETS', { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '10.0.0.0/8/1' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['HOOKFLOW_RETRY_SCHEDULE', { HOOKFLOW_RETRY_SCHEDULE: 'a,b' }],
    ['HOOKFLOW_RETRY_SCHEDULE', { HOOKFLOW_RETRY_SCHEDULE: '0,,5' }],
    ['HOOKFLOW_RETRY_SCHEDULE', { HOOKFLOW_RETRY_SCHEDULE: '-5' }],
    ['HOOKFLOW_BOOTSTRAP_KEY', { HOOKFLOW_BOOTSTRAP_KEY: 'too-short' }],
    ['SMTP_URL', { SMTP_URL: 'http://mail' }],
    ['HOOKFLOW_MAX_BODY_BYTES', { HOOKFLOW_MAX_BODY_BYTES: '10' }],
    ['HOOKFLOW_MAX_BODY_BYTES', { HOOKFLOW_MAX_BODY_BYTES: '1MB' }],
    ['HOOKFLOW_TRUST_PROXY', { HOOKFLOW_TRUST_PROXY: 'maybe' }],
    ['HOOKFLOW_METRICS_TOKEN', { HOOKFLOW_METRICS_TOKEN: 'short' }],
    ['HOOKFLOW_METRICS_TOKEN', { HOOKFLOW_METRICS_TOKEN: 'has a space in it, 0123456789' }],
    ['HOOKFLOW_REQUEST_TIMEOUT_MS', { HOOKFLOW_REQUEST_TIMEOUT_MS: '10' }],
    ['HOOKFLOW_REQUEST_TIMEOUT_MS', { HOOKFLOW_REQUEST_TIMEOUT_MS: '30s' }],
  ];

  it.each(cases)('%s = %j', (variable, env) => {
    const err = configError(() => loadConfig(env));
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.name).toBe('ConfigError');
    // A sentence, not a dump of the validator's internals.
    expect(err.message).not.toMatch(/\[\s*\{|"code":|ZodError/);
  });

  it('names the first wrong variable even when others are right', () => {
    const err = configError(() =>
      loadConfig({ PORT: '8080', PUBLIC_URL: 'https://ok.example', LOG_LEVEL: 'loud' }),
    );
    expect(err.variable).toBe('LOG_LEVEL');
    expect(err.message).toMatch(/LOG_LEVEL/);
    expect(err.message).toMatch(/info/); // tells what is allowed
  });
});

describe('HOOKFLOW_CONFIG file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const writeConfig = (content: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hookflow-config-'));
    dirs.push(dir);
    const file = path.join(dir, 'hookflow.json');
    writeFileSync(file, content);
    return file;
  };

  it('reads values from the JSON file, numbers included', () => {
    const file = writeConfig(
      JSON.stringify({ PORT: 9999, LOG_LEVEL: 'debug', PUBLIC_URL: 'https://from-file.example' }),
    );
    const c = loadConfig({ HOOKFLOW_CONFIG: file });
    expect(c.port).toBe(9999);
    expect(c.logLevel).toBe('debug');
    expect(c.publicUrl).toBe('https://from-file.example');
  });

  it('lets the environment override the file', () => {
    const file = writeConfig(JSON.stringify({ PORT: 9999, LOG_LEVEL: 'debug', DATA_DIR: '/from/file' }));
    const c = loadConfig({ HOOKFLOW_CONFIG: file, PORT: '7000' });
    expect(c.port).toBe(7000);
    expect(c.logLevel).toBe('debug');
    expect(c.dataDir).toBe('/from/file');
  });

  it('validates values from the file like those from the environment', () => {
    const file = writeConfig(JSON.stringify({ PORT: 'abc' }));
    expect(configError(() => loadConfig({ HOOKFLOW_CONFIG: file })).variable).toBe('PORT');
  });

  it('names HOOKFLOW_CONFIG when the file is missing, not JSON, or not an object', () => {
    for (const file of [
      path.join(tmpdir(), 'hookflow-no-such-config.json'),
      writeConfig('{ not json'),
      writeConfig('[1, 2]'),
      writeConfig('null'),
    ]) {
      const err = configError(() => loadConfig({ HOOKFLOW_CONFIG: file }));
      expect(err.variable).toBe('HOOKFLOW_CONFIG');
      expect(err.message).toContain('HOOKFLOW_CONFIG');
    }
  });
});
