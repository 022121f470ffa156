// npm run docs:screenshot -- REPORT.html OUT.png [WIDTH]
// A full-page picture of a report.html in headless Chromium (Debian's chromium, or
// $CHROMIUM_PATH), for the docs.
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [html, png, width = '1200'] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: npm run docs:screenshot -- REPORT.html OUT.png [WIDTH]');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
  await page.goto(pathToFileURL(resolve(html)).href);
  await page.screenshot({ path: png, fullPage: true });
  console.log(`wrote ${png}`);
} finally {
  await browser.close();
}
