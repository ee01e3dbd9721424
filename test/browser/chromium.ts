// Which Chromium the browser tests drive, and a check before any of them starts: without
// one, each spec file would first run its gate (a minute) and then fail on Playwright's own
// advice, `npx playwright install`, which cannot download a browser on these machines.
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

// Debian's Chromium where it is installed; elsewhere, Playwright's own browser.
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** DBPROOF_CHROMIUM, else Debian's Chromium where it is installed, else undefined (Playwright's own). */
export function chromiumExecutable(): string | undefined {
  return process.env.DBPROOF_CHROMIUM ?? (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined);
}

/** Playwright's globalSetup: fails the run at once, saying what to install, when there is no Chromium to launch. */
export default function checkChromium(): void {
  const path = chromiumExecutable() ?? chromium.executablePath();
  if (existsSync(path)) return;
  const where = process.env.DBPROOF_CHROMIUM
    ? `DBPROOF_CHROMIUM=${path} does not exist`
    : `no Chromium at ${DEBIAN_CHROMIUM}, nor Playwright's own at ${path}`;
  throw new Error(
    `${where}: the browser tests need one. Install it with \`apt-get install chromium\` (./scripts/install.sh does), or set DBPROOF_CHROMIUM to a Chromium or Chrome binary`,
  );
}
