import type { TopologyLinks } from '../../harness/faults/index.ts';
import { Session, type RequestSpec } from '../../harness/suite/index.ts';
import {
  RecoveryFailed,
  type BaseBackup,
  type RecoveryControl,
  type RestoredNode,
} from '../../harness/topology/recovery.ts';
import type { PgNode } from '../../harness/topology/types.ts';
import { pollUntil } from '../../harness/wait.ts';
import { epochNow } from '../support/acknowledged-writes.ts';

/** Sends `write` (a fresh key each time) until the app acknowledges one; the epoch ms of that answer, or undefined. */
async function firstAcknowledged(
  appUrl: string,
  write: RequestSpec,
  keyPrefix: string,
  timeoutMs: number,
  lastError: { message: string },
): Promise<number | undefined> {
  const session = new Session(appUrl, 5000);
  let n = 0;
  return pollUntil(
    async () => {
      try {
        await session.expectOk(write, { key: `${keyPrefix}-${n++}` });
        return epochNow();
      } catch (error) {
        lastError.message = (error as Error).message;
        return false;
      }
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Waits until the app writes again (after the primary restarted with archiving on). */
export async function waitForApp(appUrl: string, write: RequestSpec, keyPrefix: string, timeoutMs: number) {
  const lastError = { message: '' };
  if ((await firstAcknowledged(appUrl, write, keyPrefix, timeoutMs, lastError)) === undefined)
    throw new Error(
      `the app did not write again within ${timeoutMs} ms of the primary's restart: ${lastError.message}`,
    );
}

export interface ServedRestore {
  /** The restored node; undefined when the restore failed. */
  node?: PgNode;
  /** Why the restore (or the app on it) failed. */
  failure?: string;
  /** From the restore's start to the app's first acknowledged write on the restored node. */
  rtoMs: number | null;
  /** From the restore's start until the node accepted writes. */
  restoreMs: number | null;
  /** The smoke requests that did not answer 2xx, with why. */
  smokeFailures: string[];
}

/**
 * Restores the latest state into a fresh node and sends the app's endpoints to it (writer
 * and readers: the old standbys follow a primary that no longer exists), then times the
 * app's first acknowledged write there (the recovery time) and sends the smoke requests.
 */
export async function restoreAndServe(o: {
  recovery: RecoveryControl;
  links: TopologyLinks;
  backup: BaseBackup;
  appUrl: string;
  probe: RequestSpec;
  probeKey: string;
  smoke: RequestSpec[];
  timeoutMs: number;
  step: <T>(kind: string, target: string, apply: () => Promise<T>) => Promise<T>;
}): Promise<ServedRestore> {
  const started = epochNow();
  let restored: RestoredNode;
  try {
    restored = await o.step('restore', 'latest', () =>
      o.recovery.restore({ backup: o.backup, target: 'latest', timeoutMs: o.timeoutMs }),
    );
  } catch (error) {
    if (!(error instanceof RecoveryFailed)) throw error;
    return { failure: error.message, rtoMs: null, restoreMs: null, smokeFailures: [] };
  }
  const { node } = restored;
  o.links.repointWriter(node);
  for (const link of o.links.replicas) link.proxy.retarget({ port: node.port });
  await o.links.settled();
  const lastError = { message: '' };
  const answered = await firstAcknowledged(o.appUrl, o.probe, o.probeKey, o.timeoutMs, lastError);
  const restoreMs = Math.round(restored.durationMs);
  if (answered === undefined)
    return {
      node,
      failure: `the app did not acknowledge a write on ${node.name} within ${o.timeoutMs} ms: ${lastError.message}`,
      rtoMs: null,
      restoreMs,
      smokeFailures: [],
    };
  const session = new Session(o.appUrl, 10_000);
  const smokeFailures: string[] = [];
  for (const request of o.smoke) {
    try {
      await session.expectOk(request);
    } catch (error) {
      smokeFailures.push((error as Error).message);
    }
  }
  return { node, rtoMs: answered - started, restoreMs, smokeFailures };
}
