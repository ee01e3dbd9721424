import { constants } from 'node:fs';
import { access, lstat, mkdir, realpath, statfs } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';

/**
 * The results folder's safety: checked before a run makes anything in it, and every
 * write's failure said in one line that names the folder and the fix.
 */

// Virtual file systems, where files cannot be kept (and where Node's recursive mkdir loops forever).
const VIRTUAL_FILE_SYSTEMS = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
]);

/** Less than this free is a full disk: a run's files take a few hundred KB. */
const MIN_FREE_BYTES = 1024 * 1024;

const FIX = 'or set results.dir in the config to another folder';

/** The reason of a write that failed, as a person can act on it; undefined when it is not the folder's fault. */
export function folderProblem(error: unknown, dir: string): UsageError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM')
    return new UsageError(`cannot write in ${dir}: permission denied; make it writable for this user ${FIX}`);
  if (code === 'EROFS')
    return new UsageError(
      `cannot write in ${dir}: it is on a read-only file system; set results.dir in the config to another folder`,
    );
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new UsageError(`cannot write in ${dir}: no space left on its device; free some space ${FIX}`);
  if (code === 'ENOTDIR' || code === 'EISDIR')
    return new UsageError(
      `cannot write in ${dir}: a file stands where a folder should be, or a folder where a file should; move it away ${FIX}`,
    );
  return undefined;
}

/** The deepest existing folder on the way to `dir` (a file on the way is refused). */
async function nearestExisting(dir: string): Promise<string> {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const found = await lstat(at).catch(() => undefined);
    if (found) {
      if (
        !(await realpath(at)
          .then((real) => lstat(real))
          .then(
            (s) => s.isDirectory(),
            () => false,
          ))
      )
        throw new UsageError(`cannot write in ${dir}: ${at} is a file, not a folder; move it away ${FIX}`);
      return at;
    }
    if (at === path.dirname(at)) return at;
  }
}

/**
 * Refuses, before anything is made, a results folder a run could not use: on a virtual
 * file system (/proc, /sys), not writable, full, or whose `latest` is not dbproof's link.
 * Writes nothing.
 */
export async function checkResultsFolder(root: string): Promise<void> {
  const existing = await realpath(await nearestExisting(root));
  const type =
    VIRTUAL_FILE_SYSTEMS.get(Number((await statfs(existing)).type)) ??
    (/^\/(proc|sys)(\/|$)/.test(existing) ? existing.split('/')[1] : undefined);
  if (type)
    throw new UsageError(
      `cannot keep results in ${root}: it is on ${type}, a virtual file system; set results.dir in the config to a folder on a disk`,
    );
  const writable = await access(existing, constants.W_OK | constants.X_OK).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (writable) throw folderProblem(writable, root) ?? writable;
  const { bavail, bsize } = await statfs(existing);
  if (bavail * bsize < MIN_FREE_BYTES) throw folderProblem(Object.assign(new Error('full'), { code: 'ENOSPC' }), root)!;
  const latest = path.join(root, 'latest');
  const link = await lstat(latest).catch(() => undefined);
  if (link && !link.isSymbolicLink())
    throw new UsageError(
      `${latest} is not dbproof's link to the newest run (it is a ${link.isDirectory() ? 'folder' : 'file'}); move it away ${FIX}`,
    );
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir never returns under /proc, and a
 * failure names the folder and the fix.
 */
export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (
    let at = path.resolve(dir);
    !(await lstat(at).then(
      () => true,
      () => false,
    ));
    at = path.dirname(at)
  ) {
    missing.unshift(at);
    if (at === path.dirname(at)) break;
  }
  for (const at of missing) {
    try {
      await mkdir(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw (
        folderProblem(error, dir) ??
        new UsageError(
          `cannot make the folder ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); set results.dir in the config to another folder`,
        )
      );
    }
  }
}
