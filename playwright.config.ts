import { defineConfig } from '@playwright/test';
import { chromiumExecutable } from './test/browser/chromium.ts';

// Debian's Chromium where it is installed (Playwright cannot download its own browser on
// these machines); as root it needs --no-sandbox. Elsewhere, Playwright's own browser.
const executablePath = chromiumExecutable();

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  // No Chromium: one line saying what to install, before any spec file starts its gate.
  globalSetup: './test/browser/chromium.ts',
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
