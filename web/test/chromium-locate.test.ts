/**
 * Which browser the admin UI tests drive: HOOKFLOW_CHROMIUM, then a system Chromium, then the one
 * packaged in @sparticuz/chromium; where none can run, one sentence about HOOKFLOW_CHROMIUM.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type LocateDeps,
  locateChromium,
  NO_CHROMIUM_HINT,
  NoChromiumError,
  preparePackagedChromium,
} from './helpers/chromium.ts';

const packagedStub = { executablePath: '/cache/chromium', env: { LD_LIBRARY_PATH: '/cache/lib' } };

function deps(over: Partial<LocateDeps> & { executables?: string[] }): LocateDeps {
  const executables = new Set(over.executables ?? []);
  return {
    env: {},
    platform: 'linux',
    arch: 'x64',
    isExecutable: (f) => executables.has(f),
    packaged: async () => packagedStub,
    ...over,
  };
}

describe('locating Chromium for the browser tests', () => {
  it('HOOKFLOW_CHROMIUM comes first, even when a system Chromium exists', async () => {
    const choice = await locateChromium(
      deps({
        env: { HOOKFLOW_CHROMIUM: '/opt/chrome/chrome' },
        executables: ['/opt/chrome/chrome', '/usr/bin/chromium'],
      }),
    );
    expect(choice).toEqual({ executablePath: '/opt/chrome/chrome', source: 'HOOKFLOW_CHROMIUM', env: {} });
  });

  it('a HOOKFLOW_CHROMIUM that is not an executable fails with the hint instead of falling back', async () => {
    const err = await locateChromium(
      deps({ env: { HOOKFLOW_CHROMIUM: '/nope/chrome' }, executables: ['/usr/bin/chromium'] }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(NoChromiumError);
    expect(err.message).toBe(
      `HOOKFLOW_CHROMIUM is set to /nope/chrome, which is not an executable file. ${NO_CHROMIUM_HINT}`,
    );
  });

  it('a system Chromium comes before the packaged one', async () => {
    let packagedCalled = false;
    const choice = await locateChromium(
      deps({
        executables: ['/usr/bin/google-chrome'],
        packaged: async () => {
          packagedCalled = true;
          return packagedStub;
        },
      }),
    );
    expect(choice.source).toBe('system');
    expect(choice.executablePath).toBe('/usr/bin/google-chrome');
    expect(packagedCalled).toBe(false);
  });

  it('without a system Chromium on Linux x64 the packaged one is used, with its own libraries', async () => {
    const choice = await locateChromium(deps({}));
    expect(choice).toEqual({ ...packagedStub, source: 'packaged' });
  });

  it('macOS without Chrome fails with one sentence saying how to set HOOKFLOW_CHROMIUM', async () => {
    const err = await locateChromium(deps({ platform: 'darwin', arch: 'arm64' })).catch((e) => e);
    expect(err).toBeInstanceOf(NoChromiumError);
    expect(err.message).toContain('HOOKFLOW_CHROMIUM=');
    expect(err.message).toContain('darwin arm64');
  });

  it('macOS with Google Chrome installed uses it', async () => {
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    const choice = await locateChromium(deps({ platform: 'darwin', arch: 'arm64', executables: [chrome] }));
    expect(choice).toEqual({ executablePath: chrome, source: 'system', env: {} });
  });

  it('Linux without the package installed says to run npm install', async () => {
    const err = await locateChromium(deps({ packaged: async () => undefined })).catch((e) => e);
    expect(err.message).toContain('npm install');
    expect(err.message).toContain(NO_CHROMIUM_HINT);
  });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the packaged Chromium', () => {
  const cacheRoot = mkdtempSync(path.join(tmpdir(), 'hookflow-chromium-test-'));
  afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

  it('two test workers unpacking at once both get one complete copy that runs', async () => {
    const [a, b] = await Promise.all([
      preparePackagedChromium(cacheRoot),
      preparePackagedChromium(cacheRoot),
    ]);
    expect(a).toEqual(b);
    expect(a).toBeDefined();
    // Only the finished copy is left: no half-made folder from the worker that lost the rename.
    expect(readdirSync(cacheRoot)).toEqual([path.basename(path.dirname(a!.executablePath))]);
    const { stdout } = await promisify(execFile)(a!.executablePath, ['--version'], {
      env: { ...process.env, ...a!.env },
    });
    expect(stdout).toMatch(/Chromium \d+\./);
    // A second look finds the unpacked copy and does not unpack again.
    expect(await preparePackagedChromium(cacheRoot)).toEqual(a);
  }, 120_000);
});
