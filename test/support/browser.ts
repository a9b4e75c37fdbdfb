// Opens run reports in a real browser: Debian's chromium, headless, driven by playwright-core.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './helpers.js';

/** The chromium executable on PATH, or undefined. */
export function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // next
    }
  }
  return undefined;
}

export function browserSkipReason(): string | undefined {
  return chromiumPath() ? undefined : 'needs chromium on PATH (apt-get install chromium; CI installs it)';
}

/** Where tests leave screenshots and pages for people to look at (kept after the run). */
export const testOutput = join(repoRoot, '.tgc/test-output');

export async function launch(): Promise<Browser> {
  // As root, chromium refuses to start with its sandbox.
  return chromium.launch({ executablePath: chromiumPath()!, args: ['--no-sandbox'] });
}

/** A page loaded from `file` with the network off, and what it did that it should not have. */
export interface OpenedReport {
  readonly page: Page;
  /** Console errors and uncaught exceptions. */
  readonly errors: string[];
  /** Requests for anything but the file itself (and data: URLs). */
  readonly requests: string[];
}

export async function openReport(browser: Browser, file: string): Promise<OpenedReport> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('data:') && r.url() !== `file://${file}`) requests.push(r.url());
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** Saves a full-page screenshot under .tgc/test-output; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(testOutput, { recursive: true });
  const path = join(testOutput, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
