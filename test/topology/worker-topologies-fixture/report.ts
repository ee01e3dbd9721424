import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from '../../../harness/vitest/index.ts';

/**
 * Writes which topology this file was handed (its primary's port) to OUT_DIR/<name>.json.
 * With RENDEZVOUS=1 it first announces itself and waits for the other file to do so, so
 * both files are certainly running at the same time when they read their topology.
 */
export function reportTopology(name: string): void {
  test(`${name} reports its topology`, async ({ topology }) => {
    const out = process.env.OUT_DIR!;
    if (process.env.RENDEZVOUS === '1') {
      writeFileSync(path.join(out, `${name}.started`), '');
      const other = name === 'first' ? 'second' : 'first';
      for (const deadline = Date.now() + 30_000; !existsSync(path.join(out, `${other}.started`)); await sleep(50))
        if (Date.now() > deadline) throw new Error(`${other} never started while ${name} ran`);
    }
    const port = new URL(topology.primary.url).port;
    writeFileSync(path.join(out, `${name}.json`), JSON.stringify({ port, pool: process.env.VITEST_POOL_ID }));
  });
}
