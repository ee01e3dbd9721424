import path from 'node:path';
import { InfrastructureError } from '../../errors.ts';
import { docker } from './docker-cli.ts';

/** The project names of stacks dbproof starts: `dbproof-` and 8 random hex digits, new each time. */
export const OWN_PROJECT = /^dbproof-[0-9a-f]{8}$/;
export const PROJECT_LABEL = 'com.docker.compose.project';

export interface ServiceContainer {
  project: string;
  service: string;
  id: string;
  running: boolean;
  /** The published host port (from the container's configuration: a stopped container has it too). */
  hostPort: number | undefined;
  networkId: string | undefined;
}

/** The fields of `docker inspect` that dbproof reads. */
interface InspectedContainer {
  Id: string;
  Config: { Labels: Record<string, string> };
  State: { Running: boolean };
  HostConfig?: { PortBindings?: Record<string, { HostPort?: string }[] | null> };
  NetworkSettings?: { Networks?: Record<string, { NetworkID: string }> };
}

/** Every container (any state) carrying `label` (key=value). */
export async function containersLabelled(label: string): Promise<ServiceContainer[]> {
  const ids = (await docker(['ps', '-a', '-q', '--no-trunc', '--filter', `label=${label}`]))
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  return (JSON.parse(await docker(['inspect', ...ids])) as InspectedContainer[]).map((info) => {
    const bindings = info.HostConfig?.PortBindings ?? {};
    const binding = (bindings['5432/tcp'] ?? bindings['6379/tcp'] ?? [])[0];
    const networks = Object.values(info.NetworkSettings?.Networks ?? {});
    return {
      project: info.Config.Labels[PROJECT_LABEL] ?? '',
      service: info.Config.Labels['com.docker.compose.service'] ?? '',
      id: info.Id,
      running: info.State.Running,
      hostPort: binding?.HostPort ? Number(binding.HostPort) : undefined,
      networkId: networks[0]?.NetworkID,
    };
  });
}

/**
 * The containers of the stack a user brought up from `file` (`docker compose up -d`),
 * when one is running: a project of the file's directory whose primary runs. Stacks
 * dbproof started (passwords of their own) and any other project are not it.
 */
export async function runningUserStack(file: string): Promise<ServiceContainer[] | undefined> {
  const containers = await containersLabelled(`com.docker.compose.project.working_dir=${path.dirname(file)}`);
  const projects = [
    ...new Set(
      containers
        .filter((c) => c.service === 'primary' && c.running && !OWN_PROJECT.test(c.project))
        .map((c) => c.project),
    ),
  ];
  if (projects.length > 1) {
    throw new InfrastructureError(
      `several compose projects of ${file} are running (${projects.join(', ')}); dbproof attaches to one: stop the others (\`docker compose -p NAME down\`)`,
    );
  }
  return projects.length === 1 ? containers.filter((c) => c.project === projects[0]) : undefined;
}
