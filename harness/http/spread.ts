/**
 * How a load balancer in front of several instances of the app spreads requests:
 * `round-robin`, each request to the next instance; sticky, every request with the same key
 * to the same instance (`client-address`: the client's source address; `byHeader`: a header's
 * value, e.g. an API key), as a balancer hashing on it does.
 */
export type Spread = 'round-robin' | 'client-address' | { byHeader: string };

/** The instance a sticky balancer sends a key to: FNV-1a of the key, modulo the instances. */
export function stickyInstance(key: string, instances: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % instances;
}

/** The key a sticky spread hashes for a client with these headers and source address; undefined for round-robin. */
export function spreadKey(
  spread: Spread,
  client: { headers: Record<string, string>; localAddress?: string },
): string | undefined {
  if (spread === 'round-robin') return undefined;
  if (spread === 'client-address') return client.localAddress ?? '127.0.0.1';
  const name = spread.byHeader.toLowerCase();
  return Object.entries(client.headers).find(([header]) => header.toLowerCase() === name)?.[1] ?? '';
}
