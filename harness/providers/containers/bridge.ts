import { getContainerRuntimeClient } from 'testcontainers';

/**
 * The host's address on Docker's default bridge: where a partitioned node is moved
 * (DockerControl.disconnect), the host's connections through a published port come
 * from it. Its gateway, else the first address of its subnet (Docker's own choice);
 * undefined when the engine does not say (a node then refuses the host while partitioned).
 */
export async function hostAddressOnDefaultBridge(): Promise<string | undefined> {
  const client = await getContainerRuntimeClient();
  const info = (await client.network.getById('bridge').inspect()) as {
    IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
  };
  const config = (info.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':'));
  if (config?.Gateway) return config.Gateway;
  const network = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(config?.Subnet ?? '');
  if (!network) return undefined;
  const [a, b, c, d] = network.slice(1).map(Number) as [number, number, number, number];
  const first = ((a << 24) | (b << 16) | (c << 8) | d) + 1;
  return [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join('.');
}
