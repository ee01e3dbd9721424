import { getContainerRuntimeClient } from 'testcontainers';
import type { ServerLog } from '../../topology/types.ts';

/**
 * Docker's log of a container that has no TTY is multiplexed: each frame is a header (the
 * stream in byte 0, the payload's length big-endian in bytes 4–7), then the payload.
 */
export function demultiplexDockerLog(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const length = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Lines of `docker logs --timestamps` from `markMs` on, their timestamps removed. Docker
 * stamps each line when it received it (RFC 3339 with nanoseconds); `since` in Docker's API
 * counts whole seconds, so the lines of that second before the mark are dropped here.
 */
export function linesSince(text: string, markMs: number): string {
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const stamp = Date.parse(line.slice(0, space));
    if (Number.isFinite(stamp) && stamp >= markMs) kept.push(line.slice(space + 1));
  }
  return kept.length > 0 ? `${kept.join('\n')}\n` : '';
}

/**
 * A container node's server log: the container's own log (Postgres' stderr), through the
 * Docker engine's API, as `docker logs --since` reads it. A mark is a time (ms since the
 * epoch): the engine and dbproof share the machine's clock.
 */
export function containerServerLog(containerId: string): ServerLog {
  return {
    mark: async () => Date.now(),
    since: async (markMs) => {
      const container = (await getContainerRuntimeClient()).container.dockerode.getContainer(containerId);
      const raw = (await container.logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        follow: false,
        since: Math.floor(markMs / 1000),
      })) as unknown as Buffer;
      return linesSince(demultiplexDockerLog(raw), markMs);
    },
  };
}
