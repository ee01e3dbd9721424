import { UsageError } from '../../harness/errors.ts';
import { type Spread, spreadKey, stickyInstance } from '../../harness/http/spread.ts';
import type { LimitClient } from './tally.ts';

/** How the app tells clients apart: a header of the client's own (`apiKey`: `x-api-key` unless named), or its IP address. */
export interface IdentityScheme {
  by: 'apiKey' | 'header' | 'ip';
  header: string;
}

interface ClientMix {
  over: number;
  overFactor: number;
  under: number;
  underFactor: number;
}

/**
 * The suite's clients: over the limit, under it, and one making up `bypass.header` on every
 * request. Each has its own identity as the scheme says (a header's value, or a source
 * address of 127.0.0.0/8: 127.0.0.2, 127.0.0.3, …), and its instance when the spread is sticky.
 */
export function limitClients(
  options: {
    limit: number;
    clients: ClientMix;
    identity: IdentityScheme;
    bypass: false | { header: string; value: string };
  },
  urls: string[],
  spread: Spread,
): LimitClient[] {
  const { limit, clients: mix, identity } = options;
  if (identity.by === 'ip') {
    const host = new URL(urls[0]!).hostname;
    if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== 'localhost')
      throw new UsageError(
        `suite rate-limit: identity.by ip sends each client from an address of 127.0.0.0/8, which reaches only an app on this machine, and the app is at ${host} (set identity.by to header or apiKey)`,
      );
  }
  let address = 1;
  const identified = (name: string, role: LimitClient['role'], perWindow: number, headers: Record<string, string>) => {
    const client: LimitClient = {
      name,
      role,
      perWindow,
      headers:
        identity.by === 'ip' || role === 'bypass' ? headers : { ...headers, [identity.header]: `dbproof-${name}` },
      // The bypass client too has an address of its own, so that only its made-up header can make it many.
      ...(identity.by === 'ip' ? { localAddress: `127.0.0.${++address}` } : {}),
    };
    const key = urls.length > 1 ? spreadKey(spread, client) : undefined;
    return key === undefined ? client : { ...client, instance: stickyInstance(key, urls.length) };
  };
  const overPerWindow = Math.ceil(limit * mix.overFactor);
  return [
    ...Array.from({ length: mix.over }, (_, i) => identified(`over${i + 1}`, 'over', overPerWindow, {})),
    ...Array.from({ length: mix.under }, (_, i) =>
      identified(`under${i + 1}`, 'under', Math.max(1, Math.floor(limit * mix.underFactor)), {}),
    ),
    ...(options.bypass
      ? [identified('bypass', 'bypass', overPerWindow, { [options.bypass.header]: options.bypass.value })]
      : []),
  ];
}

/** The scheme in words, for evidence and errors. */
export const identityWords = (identity: IdentityScheme) => (identity.by === 'ip' ? 'source address' : identity.header);
