import type { TopologyDescription } from '../types.ts';

/**
 * How a process that did not start a topology reaches it: the URLs, plus a control
 * endpoint of the process that owns it (vitest's globalSetup, `dbproof up`). Test
 * files run in worker processes; a fault they inject must be done by the owner,
 * which holds the child processes and the watchdog.
 */
export interface TopologyHandle {
  description: TopologyDescription;
  control: { url: string; token: string };
}

export const NODE_OPERATIONS = [
  'kill',
  'stop',
  'start',
  'restart',
  'pause',
  'resume',
  'promote',
  'isInRecovery',
  'lagBytes',
  'waitForCatchup',
  // The node's ServerLog: where it ends now, and what it logged after a mark.
  'serverLogMark',
  'serverLogSince',
] as const;
export type NodeOperation = (typeof NODE_OPERATIONS)[number];

export interface OperationRequest {
  /** For waitForCatchup. */
  timeoutMs?: number;
  /** For serverLogSince: what serverLogMark answered. */
  mark?: number;
}

export type OperationResponse =
  | { ok: true; value: unknown; pid: number | null; role: 'primary' | 'replica' | null }
  | { ok: false; error: string };
