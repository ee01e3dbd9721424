// An example suite, and the shape of any suite a team adds: import the helper, ask
// for the topology, do something to it, assert on what the system under test saw.
import pg from 'pg';
import { describe, expect, test } from 'dbproof/vitest';

async function readOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT 1 AS n');
    return rows[0]!.n;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('reads with a replica lost', () => {
  test('the other replica keeps answering while replica1 is killed', async ({ topology }) => {
    await topology.replicas[0]!.kill();
    await expect(readOne(topology.replicas[0]!.url)).rejects.toThrow();
    expect(await readOne(topology.replicas[1]!.url)).toBe(1);
  });

  test('the fixture healed the topology after the previous test', async ({ topology }) => {
    expect(await readOne(topology.replicas[0]!.url)).toBe(1);
    expect(await topology.replicas[0]!.isInRecovery()).toBe(true);
  });

  test('a frozen replica falls behind and catches up once thawed', async ({ topology }) => {
    const replica = topology.replicas[1]!;
    await replica.pause();
    await readOne(topology.primary.url);
    const client = new pg.Client(topology.primary.url);
    await client.connect();
    await client.query('CREATE TABLE IF NOT EXISTS suite_writes (id serial, at timestamptz DEFAULT now())');
    const { rows } = await client.query<{ id: number }>('INSERT INTO suite_writes DEFAULT VALUES RETURNING id');
    await client.end();
    expect(await replica.lagBytes()).toBeGreaterThan(0);
    await replica.resume();
    await replica.waitForCatchup(20_000);
    // Not "lag is 0": other suite files write to the same primary at the same time.
    const reader = new pg.Client(replica.url);
    await reader.connect();
    expect(
      (await reader.query('SELECT count(*)::int AS n FROM suite_writes WHERE id = $1', [rows[0]!.id])).rows,
    ).toEqual([{ n: 1 }]);
    await reader.end();
  });
});
