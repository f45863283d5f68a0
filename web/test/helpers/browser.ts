/**
 * The admin UI's browser tests drive Chromium with playwright-core. Which Chromium is chosen by
 * ./chromium.ts: HOOKFLOW_CHROMIUM, else a system one, else the one inside the @sparticuz/chromium
 * npm package — so `npm install` brings a browser and nothing is downloaded at run time.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { findChromium, NO_CHROMIUM_HINT, NoChromiumError } from './chromium.ts';

const WEB = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = path.join(WEB, 'test', 'screenshots');

/** A browser with the flags this machine needs (no background calls to the network, no GPU). */
export async function launchChromium(): Promise<Browser> {
  const choice = await findChromium();
  try {
    // launch() gives every browser a new, empty user data dir of its own.
    return await chromium.launch({
      executablePath: choice.executablePath,
      env: { ...process.env, ...choice.env },
      headless: true,
      chromiumSandbox: false,
      args: [
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  } catch (err) {
    if (err instanceof NoChromiumError) throw err;
    throw new Error(
      `Chromium (${choice.source}: ${choice.executablePath}) did not start: ${(err as Error).message.split('\n')[0]} ${NO_CHROMIUM_HINT}`,
    );
  }
}

/** Fails clearly when the UI was not built (npm install builds it). */
export async function requireBuiltUi(): Promise<void> {
  try {
    await readFile(path.join(WEB, 'dist', 'index.html'));
  } catch {
    throw new Error('web/dist is missing: run `npm run build` (npm install runs it) before the UI tests');
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the locator is shown (the machine may be busy: no fixed sleeps). */
export async function shown(locator: Locator): Promise<Locator> {
  await locator.waitFor({ state: 'visible' });
  return locator;
}

/**
 * Errors the page printed or threw (a CSP violation, a React error); responses with an error
 * status are expected in tests of error paths and are not counted.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
      errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/**
 * A new browser context (its own sessionStorage) signed in with `key` and moved to a section by
 * its link in the main navigation; the caller closes `context` and checks `errors`.
 */
export async function openSignedIn(
  browser: Browser,
  appUrl: string,
  key: string,
  section: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = collectPageErrors(page);
  await page.goto(`${appUrl}/flows`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: section, exact: true })
    .click();
  await shown(page.getByRole('heading', { name: section, level: 1, exact: true }));
  return { context, page, errors };
}

/**
 * On the canvas: Save (which keeps a draft), then Publish it (no note), so the live flow has what
 * the canvas shows. Returns the version it was published as.
 */
export async function saveAndPublish(page: Page): Promise<number> {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await shown(page.getByTestId('version-state').getByText(/^Draft \(unpublished changes\)/));
  await shown(page.getByText('Saved', { exact: true }));
  await page.locator('.editor-actions').getByRole('button', { name: 'Publish', exact: true }).click();
  const dialog = await shown(page.getByRole('dialog', { name: 'Publish the draft' }));
  await dialog.getByRole('button', { name: 'Publish', exact: true }).click();
  const state = await shown(page.getByTestId('version-state').getByText(/^Live: version \d+$/));
  return Number((await state.textContent())?.replace(/\D+/g, ''));
}
