// Rotation keeps the newest 20 runs and removes older ones: only folders that are runs
// (the exact run-id shape, with a summary.json inside), never a person's folder whose
// name merely starts with a date.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createRunDirectory } from '../../harness/results/index.ts';
import { tempDir } from '../support/temp.ts';

/** An old run folder as dbproof leaves it. */
function oldRun(root: string, day: number): string {
  const name = `2025-01-${String(day).padStart(2, '0')}T10-00-00-000Z-ab12`;
  mkdirSync(path.join(root, name));
  writeFileSync(path.join(root, name, 'summary.json'), '{}\n');
  return name;
}

test('folders that are not runs survive rotation, however old their names look', async () => {
  const root = tempDir('results-rotation');
  const notes = ['2025-12-31T-postmortem-notes', '2024-01-01T00-00-00-000Z-ab12-copy', '2024-01-01Tsomething'];
  for (const name of notes) {
    mkdirSync(path.join(root, name));
    writeFileSync(path.join(root, name, 'notes.md'), 'keep me\n');
  }
  // Run-shaped, but without a summary.json: not something dbproof can tell is its own.
  mkdirSync(path.join(root, '2024-02-02T10-00-00-000Z-cd34'));
  const runs = Array.from({ length: 25 }, (_, i) => oldRun(root, i + 1));

  const created = await createRunDirectory(root);

  for (const name of [...notes, '2024-02-02T10-00-00-000Z-cd34'])
    expect(existsSync(path.join(root, name)), name).toBe(true);
  // The newest 20 runs are kept, the new one among them: the 6 oldest of the 25 are gone.
  const left = readdirSync(root).filter((name) => runs.includes(name) || name === created.runId);
  expect(left.sort()).toEqual([...runs.slice(6), created.runId].sort());
});
