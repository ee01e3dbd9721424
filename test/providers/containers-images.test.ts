// The containers provider's two ways to a topology. From an image with a pristine data
// directory baked in (scripts/build-local-images.sh) the primary only sets the run's
// passwords and the replicas are copies of the same state; from any other image (a
// user's own, e.g. the official postgres:15) the primary runs initdb and each replica takes
// a base backup. Either way no clear password is in an image or in a container's
// environment or command.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { postgresImage } from '../../harness/providers/containers/images.ts';
import { deriveImage, dockerForTests, removeImage, skipWithoutEngine } from '../support/docker.ts';
import { skipUnless } from '../support/skips.ts';

const engine = dockerForTests('the containers provider image tests');
/** Set by scripts/build-local-images.sh on an image whose data directory it baked. */
const PRISTINE_LABEL = 'org.dbproof.pristine-layout';

// stderr is left out: a container's log there is the server's, not node.sh's.
const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

function isBaked(image: string): boolean {
  try {
    return docker('image', 'inspect', '-f', `{{index .Config.Labels "${PRISTINE_LABEL}"}}`, image).trim() !== '';
  } catch {
    return false; // not here yet: the provider pulls it
  }
}

/** What node.sh said it did before it started postgres. */
function startLines(topology: Topology): Record<string, string[]> {
  return Object.fromEntries(
    topology.describe().nodes.flatMap((node) =>
      node.container && node.name !== 'redis'
        ? [
            [
              node.name,
              docker('logs', node.container)
                .split('\n')
                .filter((l) => l.startsWith('dbproof:')),
            ],
          ]
        : [],
    ),
  );
}

/** The passwords a topology hands out, from its URLs. */
function passwordsOf(topology: Topology): string[] {
  const urls = [topology.adminUrl, topology.primary.url, topology.redis?.url].filter((u): u is string => !!u);
  return urls.map((u) => decodeURIComponent(new URL(u).password));
}

/** One query on the image's baked data directory, in single-user mode, in a throwaway container on no network. */
function askBakedCatalogue(image: string, sql: string): string {
  const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
  return execFileSync(
    'docker',
    [
      'run',
      '--rm',
      '-i',
      '--network',
      'none',
      '--entrypoint',
      'setpriv',
      image,
      ...asPostgres,
      'postgres',
      '--single',
      '-D',
      '/var/lib/dbproof/baked',
      'postgres',
    ],
    { encoding: 'utf8', input: `${sql}\n`, stdio: ['pipe', 'pipe', 'ignore'] },
  );
}

/** A user's image made from the configured one by a shell command, without the pristine label (removed by the caller). */
const deriveUserImage = (what: string, command: string) =>
  deriveImage(postgresImage(), what, command, [`LABEL ${PRISTINE_LABEL}=`]);

async function expectReplicated(topology: Topology): Promise<void> {
  await queryRows(topology.primary.url, 'CREATE TABLE images_check (note text)');
  await queryRows(topology.primary.url, "INSERT INTO images_check VALUES ('from the primary')");
  for (const replica of topology.replicas) {
    await replica.waitForCatchup(30_000);
    expect(await queryRows(replica.url, 'SELECT note FROM images_check')).toEqual([{ note: 'from the primary' }]);
  }
}

/** Environment variables whose name says password, and any of `passwords` anywhere in the container's configuration. */
function secretsInContainer(container: string, passwords: string[]): string[] {
  const [config] = JSON.parse(docker('inspect', container)) as [{ Config: { Env: string[] }; Args: string[] }];
  const text = JSON.stringify(config);
  return [
    ...config.Config.Env.filter((e) => /PASSWORD/i.test(e.split('=')[0]!)),
    ...passwords.filter((p) => text.includes(p)).map(() => 'a password of the run'),
  ];
}

const image = postgresImage();
// CI builds the images (.ci/run): there an image without the pristine state fails, saying
// so; elsewhere its tests are skipped and counted in the end-of-run banner, like a missing engine.
const baked = engine && isBaked(image);
const required = process.env.DBPROOF_REQUIRE_DOCKER === '1';
const notBaked = `${image} has no pristine data directory (label ${PRISTINE_LABEL}): rebuild it with scripts/build-local-images.sh`;
const pristineTests = engine
  ? skipUnless(baked || required, {
      reason: `${image} has no pristine data directory (label ${PRISTINE_LABEL})`,
      toRunIt: 'rebuild it with `scripts/build-local-images.sh`, then `npm test` again',
    })
  : skipWithoutEngine(engine);

describe('containers from an image with a pristine data directory', pristineTests, () => {
  let topology: Topology | undefined;

  beforeAll(async () => {
    if (!baked) throw new Error(`DBPROOF_REQUIRE_DOCKER=1 but ${notBaked}`);
    topology = await startTopology({ provider: 'containers', replicas: 2, redis: true });
  }, 300_000);
  afterAll(() => topology?.stop(), 120_000);

  test('the primary starts from the pristine state and the replicas are copies of it, not base backups', async () => {
    expect(baked, `${image} has no pristine data directory: rebuild it with scripts/build-local-images.sh`).toBe(true);
    expect(startLines(topology!)).toEqual({
      primary: ["dbproof: starting postgres (primary, from the image's pristine data directory)"],
      replica1: ["dbproof: starting postgres (replica, from the image's pristine data directory)"],
      replica2: ["dbproof: starting postgres (replica, from the image's pristine data directory)"],
    });
    await expectReplicated(topology!);
    expect(
      await queryRows(topology!.adminUrl, 'SELECT application_name, state FROM pg_stat_replication ORDER BY 1'),
    ).toEqual([
      { application_name: 'replica1', state: 'streaming' },
      { application_name: 'replica2', state: 'streaming' },
    ]);
  });

  test("no clear password in any container's environment or command", () => {
    const passwords = passwordsOf(topology!);
    expect(passwords).toHaveLength(3);
    const containers = topology!.describe().nodes.flatMap((n) => (n.container ? [n.container] : []));
    expect(containers).toHaveLength(4);
    for (const container of containers) expect(secretsInContainer(container, passwords)).toEqual([]);
  });

  test('the image holds no password: its roles have none, and no variable names one', () => {
    const env = JSON.parse(docker('image', 'inspect', '-f', '{{json .Config.Env}}', image)) as string[];
    expect(env.filter((e) => /PASSWORD/i.test(e))).toEqual([]);
    const answer = askBakedCatalogue(
      image,
      "SELECT count(*) FILTER (WHERE rolname IN ('dbproof', 'app', 'replicator')) AS ours, count(rolpassword) AS with_password FROM pg_authid",
    );
    expect(answer).toMatch(/ours = "3"/);
    expect(answer).toMatch(/with_password = "0"/);
  });
});

describe("containers from a user's image without a pristine state", skipWithoutEngine(engine), () => {
  let userImage: string | undefined;
  let brokenImage: string | undefined;
  let topology: Topology | undefined;

  beforeAll(async () => {
    // The configured image with the baked state taken out: what a stock Postgres image looks like to node.sh.
    userImage = deriveUserImage('no-pristine', 'rm -rf /var/lib/dbproof');
    topology = await startTopology({
      provider: 'containers',
      replicas: 1,
      redis: false,
      images: { postgres: userImage },
    });
  }, 300_000);
  afterAll(async () => {
    await topology?.stop();
    removeImage(userImage);
    removeImage(brokenImage);
  }, 120_000);

  test('the primary runs initdb at start and the replica takes a base backup, then streams', async () => {
    expect(isBaked(userImage!)).toBe(false);
    expect(startLines(topology!)).toEqual({
      primary: ['dbproof: starting postgres (primary, initialised at start)'],
      replica1: ['dbproof: starting postgres (replica, from a base backup of primary)'],
    });
    await expectReplicated(topology!);
  });

  test("no clear password in any container's environment or command", () => {
    const passwords = passwordsOf(topology!);
    const containers = topology!.describe().nodes.flatMap((n) => (n.container ? [n.container] : []));
    expect(containers).toHaveLength(2);
    for (const container of containers) expect(secretsInContainer(container, passwords)).toEqual([]);
  });

  test('an image node.sh cannot run on fails the start at once, not after the start-up time-out, and leaves nothing', async () => {
    // No setpriv: the primary's script stops before postgres, and the replicas would wait for it.
    brokenImage = deriveUserImage('no-setpriv', 'rm -rf /var/lib/dbproof && rm /usr/bin/setpriv');
    const started = performance.now();
    await expect(
      startTopology({ provider: 'containers', replicas: 2, redis: false, images: { postgres: brokenImage } }),
    ).rejects.toThrow(/could not start the containers topology/);
    // Well inside the 120 s start-up time-out, which the replicas waited out for a primary that never came.
    expect(performance.now() - started).toBeLessThan(60_000);
    expect(docker('ps', '-aq', '--filter', `ancestor=${brokenImage}`).trim()).toBe('');
  }, 180_000);
});
