import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
// Imported by a test file, this registers a file-level hook: the scratch directories a
// file makes are gone when it ends.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory the postgres user may traverse (0711), removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `dbproof-${prefix}-`));
  chmodSync(dir, 0o711);
  made.push(dir);
  return dir;
}
