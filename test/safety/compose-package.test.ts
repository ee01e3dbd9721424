// The compose provider uses the compose file shipped with dbproof (not the working
// directory's): the package must contain it, and the node script it mounts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { ROOT } from './compose-support.ts';

const run = promisify(execFile);

test("dbproof's package ships docker-compose.yml and the node script it mounts", async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  expect(files).toContain('docker-compose.yml');
  expect(files).toContain('harness/providers/containers/node.sh');
}, 60_000);
