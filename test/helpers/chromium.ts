// Headless Chromium (Debian's chromium, driven by playwright-core) for tests that
// look at what users look at. Without a browser the tests skip, unless
// under CI (which sets CI) or with SLIMTRAIN_REQUIRE_CHROMIUM, where its absence is a failure.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** why the browser tests cannot run here, or undefined when they can */
export function chromiumMissing(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  if (process.env.CI || process.env.SLIMTRAIN_REQUIRE_CHROMIUM)
    throw new Error(
      `the browser tests must run here (CI or SLIMTRAIN_REQUIRE_CHROMIUM) but there is no browser at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  return `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

export function launchChromium(args: string[] = []): Promise<Browser> {
  // no sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', ...args] });
}
