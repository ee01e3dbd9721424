import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DbproofError, UsageError, zodIssue } from '../errors.ts';
import { redactDeep } from '../redact.ts';
import { checkResultsFolder, folderProblem, makeFolder } from './folder.ts';
import { suiteResultSchema, type SuiteResult } from './schema.ts';

/** Run folders kept under the results root; older ones are removed when a run starts. */
const KEEP_RUNS = 20;

/** Writes a file so that a reader sees the old content or the new one, never half of it; a failure is one line naming the folder. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await makeFolder(path.dirname(file));
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode: 0o644 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw folderProblem(error, path.dirname(file)) ?? error;
  }
}

export interface RunDirectory {
  runId: string;
  dir: string;
}

/** A run id sorts by time: `2026-11-23T23-05-01-123Z-ab12`. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
}

/** Exactly what newRunId makes: rotation touches nothing else. */
const RUN_ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{4}$/;

/**
 * Makes `<root>/<run-id>/`, points `<root>/latest` at it, and removes the oldest runs
 * beyond the newest 20. A run is a folder named exactly as run ids are, with a
 * summary.json inside: baselines, other files and a person's folders are kept, whatever
 * their names. The folder is checked first (see checkResultsFolder): a bad one is refused
 * before anything is made, and `latest` is replaced only when it is dbproof's link.
 * `runId` is newRunId()'s, made earlier where the run's files need it first (`dbproof merge`).
 */
export async function createRunDirectory(root: string, runId = newRunId()): Promise<RunDirectory> {
  await checkResultsFolder(root);
  const link = path.join(root, 'latest');
  const current = await readlink(link).catch(() => undefined);
  if (current !== undefined && !RUN_ID.test(current))
    throw new UsageError(
      `${link} is a link to ${current}, not to a dbproof run; move it away or set results.dir in the config to another folder`,
    );
  const dir = path.join(root, runId);
  await makeFolder(dir);
  const temporaryLink = `${link}.${randomBytes(4).toString('hex')}`;
  try {
    await symlink(runId, temporaryLink);
    await rename(temporaryLink, link);
  } catch (error) {
    await rm(temporaryLink, { force: true });
    await rm(dir, { recursive: true, force: true });
    throw folderProblem(error, root) ?? error;
  }
  const runs: string[] = [];
  for (const name of (await readdir(root)).filter((n) => RUN_ID.test(n) && n !== runId).sort()) {
    if ((await lstat(path.join(root, name))).isDirectory() && (await exists(path.join(root, name, 'summary.json'))))
      runs.push(name);
  }
  // The new run is one of the 20 kept.
  for (const old of runs.slice(0, Math.max(0, runs.length - (KEEP_RUNS - 1))))
    await rm(path.join(root, old), { recursive: true, force: true });
  return { runId, dir };
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

const fileName = (suite: string, target: string) =>
  `${`${suite}--${target}`.replace(/[^a-z0-9_.-]+/gi, '-').replace(/-+$/, '')}.json`;

/** Validates the suite's result against the schema and writes it atomically under `<run>/suites/`, every string redacted. */
export async function writeSuiteResult(run: RunDirectory, result: SuiteResult): Promise<string> {
  const checked = suiteResultSchema.parse(redactDeep(result));
  // A suite run twice on one target in one run keeps both results: `-2`, `-3`, … for the later ones.
  let file = path.join(run.dir, 'suites', fileName(result.suite, result.target));
  for (let n = 2; await exists(file); n++)
    file = path.join(run.dir, 'suites', fileName(result.suite, `${result.target}-${n}`));
  await writeFileAtomic(file, `${JSON.stringify(checked, null, 2)}\n`);
  return file;
}

/** A results file's JSON; a file that cannot be read or is not JSON (cut short, edited by hand) is one line naming it and `fix`. */
export async function readJson(file: string, fix: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DbproofError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give a readable file`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DbproofError(`${file} is not valid JSON (${(error as Error).message}); ${fix}`, { cause: error });
  }
}

/** Reads a suite result back; a file of another schema version or shape is refused with a message. */
export async function readSuiteResult(file: string): Promise<SuiteResult> {
  const parsed = suiteResultSchema.safeParse(await readJson(file, 're-run the suite to write it again'));
  if (!parsed.success)
    throw new DbproofError(
      `${file} is not a dbproof suite result of schema version 1 (${zodIssue(parsed.error, '')}); re-run the suite to write it again`,
    );
  return parsed.data;
}
