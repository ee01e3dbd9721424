import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';

const run = promisify(execFile);

/** The first line of a command's error output that says something. */
export function firstLine(text: string | undefined): string {
  return (
    (text ?? '')
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

/**
 * What a failed `docker …` means for the user, in one line: no CLI, no engine (or no
 * right to its socket), or the command's own complaint.
 */
export function dockerProblem(error: unknown, what: string): InfrastructureError {
  const failure = error as NodeJS.ErrnoException & { stderr?: string };
  if (failure.code === 'ENOENT') {
    return new InfrastructureError(
      'the docker CLI is not installed; install Docker (e.g. `apt-get install -y docker.io docker-compose`) or use --provider native',
      error,
    );
  }
  const said = firstLine(failure.stderr) || failure.message;
  if (/docker daemon|error during connect|docker\.sock/i.test(said)) {
    return new InfrastructureError(
      `Docker is not reachable (${said}); start the Docker engine (e.g. \`dockerd &\`) or point DOCKER_HOST at one, or use --provider native`,
      error,
    );
  }
  return new InfrastructureError(`${what} failed: ${said}`, error);
}

/** `docker …`'s standard output; any failure is a dockerProblem. */
export async function docker(args: string[]): Promise<string> {
  try {
    return (await run('docker', args, { maxBuffer: 64 << 20 })).stdout;
  } catch (error) {
    throw dockerProblem(error, `docker ${args[0]}`);
  }
}

/** Fails with one line unless a Docker engine answers (before anything is started or looked up). */
export async function requireDockerEngine(): Promise<void> {
  await docker(['version', '--format', '{{.Server.Version}}']);
}
