import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * vitest's order of files: within a group, the longest first, whatever project it is in.
 * vitest's own order runs a group's projects one after another (by name) and, with no
 * durations of its own (a fresh clone, CI), the largest files first: the suites that judge
 * no time (project `suites-untimed`, a minute each) then started last and ran alone at the
 * end, two workers idle. Longest first (LPT scheduling) ends the lane with short files.
 * A duration comes from vitest's cache of the last run here, else test/durations.json
 * (scripts/test-durations.mjs), else the file is taken as short.
 */
export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const recorded = recordedDurations(this.ctx.config.root);
    const seconds = (file: TestSpecification): number => {
      const relative = path.relative(this.ctx.config.root, file.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${file.project.name}:${relative}`);
      return cached ? cached.duration / 1000 : (recorded[relative] ?? 0);
    };
    return [...files].sort(
      (a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || seconds(b) - seconds(a),
    );
  }
}

function recordedDurations(root: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(path.join(root, 'test', 'durations.json'), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}
