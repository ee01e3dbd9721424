import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import { dockerLines } from '../support/docker.ts';

const run = promisify(execFile);

export const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

let composeCli: Promise<string[]> | undefined;

/** `docker compose …` (v2) where present, else Compose v1's `docker-compose …`, in `cwd`. */
export async function compose(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  composeCli ??= run('docker', ['compose', 'version']).then(
    () => ['docker', 'compose'],
    () => ['docker-compose'],
  );
  const [command, ...first] = await composeCli;
  return run(command!, [...first, ...args], { cwd, env: { ...process.env, ...env } });
}

/** The project name Compose derives from a directory's name. */
export function projectNameOf(dir: string): string {
  return path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');
}

/**
 * An environment variable that marks every process of one CLI run: the CLI, its compose
 * commands and its watchdog inherit it. Once no marked process is left, whatever that run
 * does after it ends (the watchdog's clean-up) is done: no test has to guess how long.
 */
export function marker(): {
  env: NodeJS.ProcessEnv;
  gone: (timeoutMs?: number) => Promise<number[]>;
  /** The marked processes still running, `pid command line` each: what a run is stuck in. */
  running: () => string[];
  /** Sends `signal` to every marked process: the test's own, they carry its mark. */
  signal: (signal: NodeJS.Signals) => void;
} {
  const value = randomUUID();
  const needle = `DBPROOF_TEST_MARK=${value}\0`;
  const marked = () =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return `${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(needle);
        } catch {
          return false; // gone, or not ours to read
        }
      })
      .map(Number);
  const gone = async (timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    let left = marked();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = marked();
    }
    return left;
  };
  const running = () =>
    marked().map((pid) => {
      try {
        return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`;
      } catch {
        return `${pid} (gone)`;
      }
    });
  const signal = (name: NodeJS.Signals) => {
    for (const pid of marked()) {
      try {
        process.kill(pid, name);
      } catch {
        // gone meanwhile
      }
    }
  };
  return { env: { DBPROOF_TEST_MARK: value }, gone, running, signal };
}

/** 'running', 'stopped' or 'absent'. */
export function containerState(id: string): 'running' | 'stopped' | 'absent' {
  try {
    return execFileSync('docker', ['inspect', '-f', '{{.State.Running}}', id], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim() === 'true'
      ? 'running'
      : 'stopped';
  } catch {
    return 'absent';
  }
}

export function containerLabel(id: string, label: string): string {
  return execFileSync('docker', ['inspect', '-f', `{{index .Config.Labels "${label}"}}`, id], {
    encoding: 'utf8',
  }).trim();
}

/** Containers (any state) created from an image reference, as their Config.Image names it. */
export function containersFromImage(reference: string): string[] {
  return dockerLines(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Image}}'])
    .map((line) => line.split(' '))
    .filter(([, image]) => image === reference)
    .map(([id]) => id!);
}

/** Containers and networks carrying Compose's project label for `project`. */
export function projectResources(project: string): string[] {
  return [
    ...dockerLines(['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`]),
    ...dockerLines(['network', 'ls', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`]),
  ];
}

const madeImages: string[] = [];
const madeContainers: string[] = [];
// Imported by a test file, this registers a file-level hook: the tags and containers a file made are removed.
afterAll(() => {
  for (const id of madeContainers.splice(0))
    execFileSync('docker', ['rm', '--force', '--volumes', id], { stdio: 'ignore' });
  // `docker rmi` of an extra tag only removes that name, never the image others use.
  for (const tag of madeImages.splice(0)) execFileSync('docker', ['rmi', tag], { stdio: 'ignore' });
});

/**
 * A name of this test's own for an existing image: containers made from it are told
 * apart from everyone else's by their Config.Image. Removed after the test file.
 */
export function imageAlias(image: string, name: string): string {
  const tag = `dbproof-test/${name}-${randomUUID().slice(0, 8)}:1`;
  execFileSync('docker', ['tag', image, tag], { timeout: 120_000 });
  madeImages.push(tag);
  return tag;
}

/** An image without a shell (or anything else): a container made from it is created, then fails to start. */
export function imageWithoutShell(): string {
  const tag = `dbproof-test/no-shell-${randomUUID().slice(0, 8)}:1`;
  execFileSync(
    'sh',
    [
      '-c',
      `d=$(mktemp -d) && echo nothing > "$d/README" && tar -C "$d" -c README | docker import - "${tag}" >/dev/null; s=$?; rm -rf "$d"; exit $s`,
    ],
    { timeout: 120_000 },
  );
  madeImages.push(tag);
  return tag;
}

/** `docker run -d` with these labels, removed after the test file: a container dbproof did not create. */
export function bystanderContainer(image: string, labels: Record<string, string>): string {
  const id = execFileSync(
    'docker',
    ['run', '-d', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), image, 'sleep', 'infinity'],
    { encoding: 'utf8' },
  ).trim();
  madeContainers.push(id);
  return id;
}
