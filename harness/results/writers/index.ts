import path from 'node:path';
import { DbproofError, zodIssue } from '../../errors.ts';
import { redactDeep } from '../../redact.ts';
import { runResultSchema, type RunResult } from '../run-result.ts';
import { readJson, writeFileAtomic } from '../write.ts';
import { junitXml } from './junit.ts';
import { summaryMarkdown } from './markdown.ts';
import { reportHtml } from './html/report.ts';

/**
 * Writers render a RunResult into the run's folder, each as one file written atomically:
 * summary.json (validated against the schema first), junit.xml, summary.md, report.html.
 * Every string is redacted first: evidence quotes what apps answer, and apps echo credentials.
 */
export interface ResultWriter {
  file: string;
  render(run: RunResult): string;
}

export const WRITERS: ResultWriter[] = [
  { file: 'summary.json', render: (run) => `${JSON.stringify(runResultSchema.parse(run), null, 2)}\n` },
  { file: 'junit.xml', render: junitXml },
  { file: 'summary.md', render: summaryMarkdown },
  { file: 'report.html', render: reportHtml },
];

export async function writeRunResult(
  dir: string,
  run: RunResult,
  writers: ResultWriter[] = WRITERS,
): Promise<string[]> {
  const files: string[] = [];
  const safe = redactDeep(run);
  for (const writer of writers) {
    const file = path.join(dir, writer.file);
    await writeFileAtomic(file, writer.render(safe));
    files.push(file);
  }
  return files;
}

/** Reads summary.json (or a baseline) back; an unreadable file, broken JSON, another schema version or shape is refused with a message. */
export async function readRunResult(file: string, fix = 'run `dbproof gate` again to write it'): Promise<RunResult> {
  const parsed = runResultSchema.safeParse(await readJson(file, fix));
  if (!parsed.success)
    throw new DbproofError(
      `${file} is not a dbproof summary of schema version 1 (${zodIssue(parsed.error, '')}); ${fix}`,
    );
  return parsed.data;
}

export { junitXml, reportHtml, summaryMarkdown };
