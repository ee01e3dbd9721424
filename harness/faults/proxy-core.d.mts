import type { NamedToxic } from './toxics.ts';

/** The fault proxy of proxy-core.mjs: toxics come named (ToxicList), the owner checks names. */
export interface ProxyCore {
  /** Where the app connects instead of the node: 127.0.0.1:port. */
  readonly port: number;
  add(toxic: NamedToxic): void;
  remove(name: string): void;
  reset(): void;
  /** Open client connections (one held back by slow_close counts until it closes). */
  connections(): number;
  /** New connections go to `upstream` from now on; the open ones are closed. */
  retarget(upstream: { host?: string; port: number }): void;
  close(): Promise<void>;
}

export function startProxyCore(
  upstream: { host?: string; port: number },
  options?: { port?: number; seed?: number; onConnections?: (open: number) => void },
): Promise<ProxyCore>;
