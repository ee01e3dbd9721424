import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// Debian's Chromium where it is installed (Playwright cannot download its own browser on
// these machines); as root it needs --no-sandbox. Elsewhere, Playwright's own browser.
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const executablePath = process.env.DBPROOF_CHROMIUM ?? (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined);

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  // Each file starts real processes (a gate run, a topology and the reference app): one at a time on 2 cores.
  workers: 1,
  timeout: 180_000,
  reporter: process.env.CI ? 'list' : 'line',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath,
      args: [
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
  },
});
