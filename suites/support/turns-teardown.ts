// The suites project's second globalSetup: at the end of the run, the turn's directory is
// removed whatever happened to the files (a crash, a kill), so nothing is left in /tmp.
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import '../../harness/vitest/provided.ts';
import { turnDir } from './turns.ts';

export default function setup(project: TestProject): () => void {
  return () => rmSync(turnDir(project.getProvidedContext().dbproof), { recursive: true, force: true });
}
