/**
 * Which Chromium the browser tests drive, so that `npm install` then `npm test` needs nothing else:
 *   1. `HOOKFLOW_CHROMIUM`, when set (any Chromium or Chrome binary);
 *   2. a system Chromium or Chrome at its usual path;
 *   3. the Chromium shipped inside the `@sparticuz/chromium` npm package (Linux x64), unpacked
 *      once into `node_modules/.cache/hookflow-chromium/<version>/` with its own fonts and NSS
 *      libraries, so it needs nothing from the system either.
 * Nothing downloads a browser and nothing needs root. Where none can run, the tests fail with one
 * sentence saying how to set HOOKFLOW_CHROMIUM.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBrotliDecompress } from 'node:zlib';

export type ChromiumChoice = {
  executablePath: string;
  source: 'HOOKFLOW_CHROMIUM' | 'system' | 'packaged';
  /** Environment the browser needs besides the test process's own (the packaged one's fonts and libraries). */
  env: Record<string, string>;
};

/** The one sentence a user sees when no browser can be had. */
export const NO_CHROMIUM_HINT =
  'Set HOOKFLOW_CHROMIUM to a Chromium or Chrome binary (e.g. HOOKFLOW_CHROMIUM="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" npm test) to run the admin UI tests.';

export class NoChromiumError extends Error {
  constructor(reason: string) {
    super(`${reason} ${NO_CHROMIUM_HINT}`);
    this.name = 'NoChromiumError';
  }
}

/** Where a system-wide Chromium or Chrome usually is, per platform, in the order tried. */
export const SYSTEM_CHROMIUM_PATHS: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome-stable',
    '/usr/bin/google-chrome',
    '/snap/bin/chromium',
  ],
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
  ],
  win32: [
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
  ],
};

export type LocateDeps = {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  arch: string;
  isExecutable: (file: string) => boolean;
  /** Unpacks the packaged Chromium (or finds it unpacked); undefined when the package is not installed. */
  packaged: () => Promise<{ executablePath: string; env: Record<string, string> } | undefined>;
};

/** The lookup in its order; `deps` are injectable so the order is tested without a browser. */
export async function locateChromium(deps: LocateDeps): Promise<ChromiumChoice> {
  const fromEnv = deps.env.HOOKFLOW_CHROMIUM;
  if (fromEnv) {
    if (!deps.isExecutable(fromEnv))
      throw new NoChromiumError(`HOOKFLOW_CHROMIUM is set to ${fromEnv}, which is not an executable file.`);
    return { executablePath: fromEnv, source: 'HOOKFLOW_CHROMIUM', env: {} };
  }
  const system = (SYSTEM_CHROMIUM_PATHS[deps.platform] ?? []).find((p) => deps.isExecutable(p));
  if (system) return { executablePath: system, source: 'system', env: {} };
  if (deps.platform === 'linux' && deps.arch === 'x64') {
    const packaged = await deps.packaged();
    if (packaged) return { ...packaged, source: 'packaged' };
    throw new NoChromiumError(
      'No system Chromium was found and the @sparticuz/chromium package is not installed (run npm install).',
    );
  }
  throw new NoChromiumError(
    `No system Chromium or Chrome was found, and the packaged Chromium runs on Linux x64 only (this is ${deps.platform} ${deps.arch}).`,
  );
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Unpacks `@sparticuz/chromium`'s brotli files into a cache folder of its own. Test files run in
 * parallel workers, so each unpacks into a private folder and renames it into place: a worker sees
 * either no cache or a complete one, never a half-written binary.
 */
export async function preparePackagedChromium(
  cacheRoot = path.join(ROOT, 'node_modules', '.cache', 'hookflow-chromium'),
): Promise<{ executablePath: string; env: Record<string, string> } | undefined> {
  let pkgDir: string;
  try {
    // The package exports only its entry point (build/…/index); its root is two folders up.
    const entry = createRequire(path.join(ROOT, 'package.json')).resolve('@sparticuz/chromium');
    pkgDir = path.resolve(path.dirname(entry), '..', '..');
  } catch {
    return undefined;
  }
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const bin = path.join(pkgDir, 'bin');
  const dir = path.join(cacheRoot, version);
  const result = () => ({
    executablePath: path.join(dir, 'chromium'),
    env: {
      FONTCONFIG_PATH: dir,
      FONTCONFIG_FILE: path.join(dir, 'fonts.conf'),
      LD_LIBRARY_PATH: path.join(dir, 'lib'),
    },
  });
  if (existsSync(path.join(dir, '.complete'))) return result();

  const building = `${dir}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(building, { recursive: true });
  try {
    await pipeline(
      createReadStream(path.join(bin, 'chromium.br')),
      createBrotliDecompress(),
      createWriteStream(path.join(building, 'chromium'), { mode: 0o755 }),
    );
    // fonts.tar.br: fonts/ (Open Sans); al2023.tar.br: lib/ (NSS, expat); swiftshader: software GL.
    for (const archive of ['fonts.tar.br', 'al2023.tar.br', 'swiftshader.tar.br'])
      await untarBrotli(path.join(bin, archive), building);
    // The package's fonts.conf names /tmp/fonts (where it unpacks on AWS Lambda); ours names this folder.
    writeFileSync(
      path.join(building, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${path.join(dir, 'fonts')}</dir>\n  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    writeFileSync(path.join(building, '.complete'), `${version}\n`);
    try {
      renameSync(building, dir);
    } catch (err) {
      // Another worker finished first: its copy is as good as ours.
      if (!existsSync(path.join(dir, '.complete'))) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return result();
}

/**
 * A .tar.br unpacked with the system's tar (every Linux has one). The .tar is written out first:
 * tar stops reading at the end-of-archive marker, which would cut a pipe into it short.
 */
async function untarBrotli(archive: string, into: string): Promise<void> {
  const tarFile = path.join(into, `${path.basename(archive, '.br')}`);
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(tarFile));
  try {
    await execFileAsync('tar', ['-x', '-f', tarFile, '-C', into]);
  } finally {
    rmSync(tarFile, { force: true });
  }
}

let chosen: Promise<ChromiumChoice> | undefined;

/** The browser for this test process, looked up (and unpacked) once. */
export function findChromium(): Promise<ChromiumChoice> {
  chosen ??= locateChromium({
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    isExecutable: isExecutableFile,
    packaged: () => preparePackagedChromium(),
  });
  return chosen;
}
