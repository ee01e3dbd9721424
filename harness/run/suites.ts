import path from 'node:path';
import { SUITE_NAMES, SUITES } from '../../suites/index.ts';
import type { ResolvedConfig } from '../config/index.ts';
import { z } from 'zod';
import { UsageError, zodIssue } from '../errors.ts';
import { checkRequirements, resolveSuiteOptions, type SuiteDefinition } from '../suite/index.ts';
import type { ResolvedTopologySpec } from '../topology/spec.ts';
import { importUserModule } from '../user-module.ts';

/** A suite of the plan with its options as the config gives them (validated when planned). */
export interface PlannedSuite {
  suite: SuiteDefinition;
  options: unknown;
}

/**
 * The suites a run can name: those dbproof ships and the team's own, each of the latter
 * an entry of the config's `suites:` with `use` (a `defineSuite` value, or the path of a
 * module exporting one, relative to the config) beside its options.
 */
export interface SuiteCatalogue {
  /** The team's suites, by name, in the config's order. */
  team: Map<string, SuiteDefinition>;
  /** The suite of this name, dbproof's or the team's; a UsageError naming the choices when there is none. */
  get(name: string): SuiteDefinition;
  /** The suite's options as the config gives them (a team suite's entry without `use`). */
  optionsOf(name: string): unknown;
}

const isBuiltIn = (name: string): name is keyof typeof SUITES => Object.hasOwn(SUITES, name);

/** A name that is a results file's name as it is: `results/<run>/suites/<name>--<app>.json`. */
const SUITE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a value has the shape `defineSuite` gives (checked at run time: a team's module may export anything). */
function isSuiteDefinition(value: unknown): value is SuiteDefinition {
  return (
    isRecord(value) &&
    typeof value.run === 'function' &&
    isRecord(value.options) &&
    typeof (value.options as { safeParse?: unknown }).safeParse === 'function'
  );
}

const DEFINE_SUITE =
  "export default defineSuite({ name, description, options: z.object({…}), requires: {}, run }) (from 'dbproof')";

/** The suite a module exports: its default export, else its only export that is a suite. */
function suiteOfModule(module: Record<string, unknown>, field: string, file: string): SuiteDefinition {
  if (isSuiteDefinition(module.default)) return module.default;
  const suites = Object.values(module).filter(isSuiteDefinition);
  if (suites.length === 1) return suites[0]!;
  throw new UsageError(
    suites.length === 0
      ? `${field}: ${file} exports no suite; ${DEFINE_SUITE}`
      : `${field}: ${file} exports ${suites.length} suites and no default; export the one to run as default`,
  );
}

/** The suite an entry's `use` names, checked: a suite, named after its entry, not one of dbproof's names. */
async function teamSuite(name: string, use: unknown, configDir: string, where: string): Promise<SuiteDefinition> {
  const field = `${where}: invalid suites.${name}.use`;
  let suite: unknown = use;
  if (typeof use === 'string') {
    const file = path.resolve(configDir, use);
    suite = suiteOfModule(await importUserModule(file, `${where}: suites.${name}.use`), field, file);
  }
  if (!isSuiteDefinition(suite))
    throw new UsageError(
      `${field}: not a suite (give the value defineSuite returns, or its module's path); ${DEFINE_SUITE}`,
    );
  if (typeof suite.name !== 'string' || suite.name === '')
    throw new UsageError(`${field}: the suite has no name; give defineSuite({ name: '${name}', … })`);
  if (isBuiltIn(suite.name))
    throw new UsageError(
      `${field}: the suite is named '${suite.name}', a suite dbproof ships; give yours a name of its own (defineSuite({ name }) and its key in suites:)`,
    );
  if (suite.name !== name)
    throw new UsageError(
      `${field}: the suite is named '${suite.name}'; its entry must have the same name (suites: { '${suite.name}': { use, … } })`,
    );
  if (typeof suite.description !== 'string')
    throw new UsageError(
      `${field}: the suite has no description; give defineSuite a one-line description of its claim`,
    );
  const requires = requiresSchema.safeParse(suite.requires ?? {});
  if (!requires.success)
    throw new UsageError(
      `${where}: invalid suites.${name}.use: ${zodIssue(requires.error, 'requires', ['requires'])} (e.g. requires: { replicas: 1, redis: true, destructive: false })`,
    );
  // A suite written in JavaScript may leave `requires` out. The suite itself is kept (not
  // copied): a class instance's run and preflight live on its prototype.
  return suite.requires === undefined
    ? (Object.create(suite, { requires: { value: {}, enumerable: true } }) as SuiteDefinition)
    : suite;
}

/** What a suite may require of the topology; checked, since a team's suite may say anything. */
const requiresSchema = z
  .object({
    replicas: z.number().int().min(0).optional(),
    redis: z.boolean().optional(),
    destructive: z.boolean().optional(),
  })
  .strict();

/**
 * The catalogue a config makes: every `suites:` key checked (dbproof's name, or a team
 * suite's entry with `use`), each team suite imported and checked. The messages name the
 * config file and the field, as the config's other fields do.
 */
export async function suiteCatalogue(config: ResolvedConfig, file: string): Promise<SuiteCatalogue> {
  const where = path.basename(file);
  const team = new Map<string, SuiteDefinition>();
  for (const [name, entry] of Object.entries(config.suites)) {
    const use = isRecord(entry) && Object.hasOwn(entry, 'use') ? entry.use : undefined;
    if (isBuiltIn(name)) {
      if (use !== undefined)
        throw new UsageError(
          `${where}: invalid suites.${name}: '${name}' is a suite dbproof ships; name your own suite differently (its key in suites: and defineSuite({ name }))`,
        );
      continue;
    }
    if (use === undefined)
      throw new UsageError(
        `${where}: invalid suites.${name}: no suite named '${name}'; the suites are ${SUITE_NAMES.join(', ')}, or a suite of your own: suites: { '${name}': { use: yourSuite } }`,
      );
    if (!SUITE_NAME.test(name))
      throw new UsageError(
        `${where}: invalid suites.${name}: a suite's name is lower-case letters, digits and '-' (it names its results file)`,
      );
    team.set(name, await teamSuite(name, use, path.dirname(file), where));
  }
  const known = () =>
    `the suites are ${[...SUITE_NAMES, ...team.keys()].join(', ')}${team.size === 0 ? " (a suite of your own is named in the config's suites: with { use })" : ''}`;
  return {
    team,
    get(name) {
      if (isBuiltIn(name)) return SUITES[name] as unknown as SuiteDefinition;
      const suite = team.get(name);
      if (!suite) throw new UsageError(`no suite named '${name}'; ${known()}`);
      return suite;
    },
    optionsOf(name) {
      const entry = config.suites[name];
      if (!team.has(name) || !isRecord(entry)) return entry;
      const { use: _, ...options } = entry;
      return options;
    },
  };
}

/**
 * Each suite with its options from the config, refused before anything starts when an
 * option is invalid or the planned topology cannot hold it. Every suite's options are
 * resolved (not only those with a preflight): a bad option costs no topology.
 */
export async function planSuites(
  suites: SuiteDefinition[],
  catalogue: SuiteCatalogue,
  topology: ResolvedTopologySpec,
  where: { configDir: string; scenarios: readonly string[]; dataset: boolean },
  overrides: Record<string, Record<string, unknown>> = {},
): Promise<PlannedSuite[]> {
  const planned: PlannedSuite[] = [];
  for (const suite of suites) {
    const configured = catalogue.optionsOf(suite.name);
    const override = overrides[suite.name];
    const options = override ? { ...(configured as Record<string, unknown> | undefined), ...override } : configured;
    const resolved = resolveSuiteOptions(suite, options);
    await suite.preflight?.(resolved, topology, where);
    checkRequirements(suite, topology);
    planned.push({ suite, options });
  }
  return planned;
}
