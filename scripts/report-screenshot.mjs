// Regenerates docs/report-ping.png, the README's picture of a run report: runs the ping
// example on the local target, opens its report.html in headless chromium, saves a screenshot.
// Needs what `tgc run` needs (root, or user namespaces) and chromium on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const which = (name) => spawnSync('which', [name], { encoding: 'utf8' }).stdout.trim();
const browserPath = which('chromium') || which('chromium-browser') || which('google-chrome');
if (!browserPath) {
  console.error('report-screenshot: needs chromium on PATH (apt-get install chromium)');
  process.exit(3);
}

const dir = mkdtempSync(join(tmpdir(), 'tgc-screenshot-'));
try {
  const out = join(dir, 'run');
  execFileSync(process.execPath, [join(root, 'dist/tgc.mjs'), 'run', 'examples/ping/plan.toml', '--out', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 }, colorScheme: 'light' });
    await page.goto(`file://${join(out, 'report.html')}`);
    // The top of the page: verdict, groups, timeline, the first metric.
    const metrics = await page.locator('#metrics figure').first().boundingBox();
    const height = Math.ceil((metrics?.y ?? 700) + (metrics?.height ?? 0) + 16);
    const path = join(root, 'docs/report-ping.png');
    await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width: 1100, height } });
    console.log(path);
  } finally {
    await browser.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
