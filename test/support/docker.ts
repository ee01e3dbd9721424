import { execFileSync } from 'node:child_process';

/**
 * Where no registry is reachable, the images come from scripts/build-local-images.sh:
 * use them when they exist and no image was chosen.
 */
function preferLocalImages(): void {
  const has = (tag: string) => {
    try {
      execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  };
  if (!process.env.DBPROOF_PG_IMAGE && has('dbproof-local/postgres:15')) process.env.DBPROOF_PG_IMAGE = 'dbproof-local/postgres:15';
  if (!process.env.DBPROOF_REDIS_IMAGE && has('dbproof-local/redis:7')) process.env.DBPROOF_REDIS_IMAGE = 'dbproof-local/redis:7';
}

/** Whether a Docker engine answers here (the containers and compose providers need one). */
export function dockerEngineAnswers(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    preferLocalImages();
    return true;
  } catch {
    return false;
  }
}

/** Says loudly why container tests do not run, so that a skipped run is never mistaken for a green one. */
export function announceSkip(what: string): void {
  const line = `!!! SKIPPED: ${what}: no Docker engine answers on this machine (start one: apt-get install -y docker.io && dockerd &) !!!`;
  console.warn(`\n${'!'.repeat(line.length)}\n${line}\n${'!'.repeat(line.length)}\n`);
}

export function dockerLines(args: string[]): string[] {
  return execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean);
}
