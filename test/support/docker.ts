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

export interface DockerResources {
  containers: string[];
  networks: string[];
}

/** The containers publishing these host ports, and their networks (Docker's default ones left out). */
export function resourcesPublishing(ports: number[]): DockerResources {
  const containers = [...new Set(ports.flatMap((port) => dockerLines(['ps', '-aq', '--no-trunc', '--filter', `publish=${port}`])))];
  return { containers, networks: networksOf(containers) };
}

export function networksOf(containers: string[]): string[] {
  if (containers.length === 0) return [];
  const defaults = new Set(dockerLines(['network', 'ls', '-q', '--no-trunc', '--filter', 'name=^(bridge|host|none)$']));
  const ids = dockerLines(['inspect', '-f', '{{range $name, $net := .NetworkSettings.Networks}}{{$net.NetworkID}}\n{{end}}', ...containers]);
  return [...new Set(ids.map((id) => id.trim()).filter((id) => id && !defaults.has(id)))];
}

/** Which of `resources` still exist. */
export function stillPresent(resources: DockerResources): string[] {
  const containers = new Set(dockerLines(['ps', '-aq', '--no-trunc']));
  const networks = new Set(dockerLines(['network', 'ls', '-q', '--no-trunc']));
  return [...resources.containers.filter((id) => containers.has(id)), ...resources.networks.filter((id) => networks.has(id))];
}
