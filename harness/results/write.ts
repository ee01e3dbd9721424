import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DbproofError } from '../errors.ts';
import { redactDeep } from '../redact.ts';
import { suiteResultSchema, type SuiteResult } from './schema.ts';

/** Run folders kept under the results root; older ones are removed when a run starts. */
const KEEP_RUNS = 20;

/** Writes a file so that a reader sees the old content or the new one, never half of it. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode: 0o644 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export interface RunDirectory {
  runId: string;
  dir: string;
}

/** A run id sorts by time: `2026-11-23T23-05-01-123Z-ab12`. */
function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
}

/**
 * Makes `<root>/<run-id>/`, points `<root>/latest` at it, and removes the oldest run
 * folders beyond the newest 20 (baselines and other files in the root are kept).
 */
export async function createRunDirectory(root: string): Promise<RunDirectory> {
  const runId = newRunId();
  const dir = path.join(root, runId);
  await mkdir(dir, { recursive: true });
  const link = path.join(root, 'latest');
  const temporaryLink = `${link}.${randomBytes(4).toString('hex')}`;
  await symlink(runId, temporaryLink);
  await rename(temporaryLink, link);
  const runs = (await readdir(root)).filter((name) => /^\d{4}-\d{2}-\d{2}T/.test(name)).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - KEEP_RUNS))) {
    if ((await stat(path.join(root, old))).isDirectory()) await rm(path.join(root, old), { recursive: true, force: true });
  }
  return { runId, dir };
}

const exists = (file: string) => stat(file).then(() => true, () => false);

const fileName = (suite: string, target: string) => `${`${suite}--${target}`.replace(/[^a-z0-9_.-]+/gi, '-').replace(/-+$/, '')}.json`;

/** Validates the suite's result against the schema and writes it atomically under `<run>/suites/`, every string redacted. */
export async function writeSuiteResult(run: RunDirectory, result: SuiteResult): Promise<string> {
  const checked = suiteResultSchema.parse(redactDeep(result));
  // A suite run twice on one target in one run keeps both results: `-2`, `-3`, … for the later ones.
  let file = path.join(run.dir, 'suites', fileName(result.suite, result.target));
  for (let n = 2; await exists(file); n++) file = path.join(run.dir, 'suites', fileName(result.suite, `${result.target}-${n}`));
  await writeFileAtomic(file, `${JSON.stringify(checked, null, 2)}\n`);
  return file;
}

/** Reads a suite result back; a file of another schema version or shape is refused with a message. */
export async function readSuiteResult(file: string): Promise<SuiteResult> {
  const parsed = suiteResultSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new DbproofError(`${file} is not a dbproof suite result of schema version 1 (${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}); re-run the suite to write it again`);
  return parsed.data;
}
