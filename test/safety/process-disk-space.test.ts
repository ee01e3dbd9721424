import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

// A small DBPROOF_TMPDIR: a 100 MB tmpfs holds the initdb template (about 38 MB) and one
// copy of it, not three. Mounting one needs root.
const root = process.getuid?.() === 0;
const mountPoint = mkdtempSync(path.join(os.tmpdir(), 'dbproof-small-'));
afterAll(() => {
  if (root) execFileSync('umount', [mountPoint], { stdio: 'ignore' });
  rmSync(mountPoint, { recursive: true, force: true });
});

describe('a DBPROOF_TMPDIR too small for the data directories', () => {
  test.skipIf(!root)(
    'is refused before any copy: one line naming the directory, the space needed and the fix',
    async () => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=100m,mode=0711', 'tmpfs', mountPoint]);
      const env = { DBPROOF_TMPDIR: mountPoint, DBPROOF_STATE_DIR: tempDir('space-state') };
      const result = await runCli(['exec', '--replicas', '2', '--no-redis', '--', 'true'], { env });
      expect(result.stderr).toMatch(
        new RegExp(
          `^dbproof: ${mountPoint}/runs has \\d+ MB free; the 3 data directories need \\d+ MB: set DBPROOF_TMPDIR to a directory with more room`,
        ),
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.code).toBe(2);
      // Nothing left behind: no run directory, and so no process working in one.
      const runs = path.join(mountPoint, 'runs');
      expect(existsSync(runs) ? readdirSync(runs) : []).toEqual([]);
    },
  );
});
