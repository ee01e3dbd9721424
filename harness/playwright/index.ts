/**
 * dbproof for Playwright tests: a fixture that counts, while a page loads, the API calls it
 * makes and the database statements they cause, and flags a page that fetches once per
 * item (the front-end N+1) like a back-end one.
 *
 *   import { test, expect } from 'dbproof/playwright';
 *   test.use({ dbproofDatabase: { nodes: [{ name: 'primary', adminUrl }], role: 'app' } });
 *   // or, when the database is made in a hook: test.use({ dbproofDatabase: async ({}, use) => use({ nodes, role }) });
 *   test('the orders page fetches once', async ({ pageLoads }) => {
 *     const report = await pageLoads.checkN1({ url: (k) => `${base}/orders?limit=${k}` });
 *     expect(report.findings).toEqual([]);
 *   });
 */
import { test as base } from '@playwright/test';
import {
  callShape,
  checkPageN1,
  measurePageLoad,
  type DatabaseToWatch,
  type PageLoad,
  type PageLoadOptions,
  type PageN1Report,
} from './page-load.ts';

export interface PageLoads {
  /** One page load: its API calls and, with `dbproofDatabase`, the statements they caused. */
  measure(url: string, options?: PageLoadOptions): Promise<PageLoad>;
  /** The page at increasing sizes: API calls (and statements) made once per item are findings. */
  checkN1(
    options: { url: (size: number) => string; sizes?: number[]; name?: string } & PageLoadOptions,
  ): Promise<PageN1Report>;
}

export const test = base.extend<{ pageLoads: PageLoads; dbproofDatabase: DatabaseToWatch | undefined }>({
  // An option: a value, or (when the database is made in a hook) a fixture that gives one.
  dbproofDatabase: [undefined, { option: true }],
  pageLoads: async ({ page, dbproofDatabase }, use) => {
    await use({
      measure: (url, options) => measurePageLoad(page, url, dbproofDatabase, options),
      checkN1: (options) => checkPageN1(page, { ...options, database: dbproofDatabase }),
    });
  },
});

export { expect } from '@playwright/test';
export { callShape, checkPageN1, measurePageLoad };
export type {
  ApiCall,
  DatabaseToWatch,
  FrontEndN1Finding,
  PageLoad,
  PageLoadOptions,
  PageN1Report,
} from './page-load.ts';
