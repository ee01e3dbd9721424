import path from 'node:path';
import { SUITE_NAMES, SUITES } from '../../suites/index.ts';
import type { ResolvedConfig } from '../config/index.ts';
import { UsageError } from '../errors.ts';
import { checkRequirements, resolveSuiteOptions, type SuiteDefinition } from '../suite/index.ts';
import type { ResolvedTopologySpec } from '../topology/spec.ts';

/** A suite of the plan with its options as the config gives them (validated when planned). */
export interface PlannedSuite {
  suite: SuiteDefinition;
  options: unknown;
}

const isSuiteName = (name: string): name is keyof typeof SUITES => Object.hasOwn(SUITES, name);
const knownSuites = () => `the suites are ${SUITE_NAMES.join(', ')}`;

/**
 * The config's `suites:` keys, each a suite dbproof ships; the message names the file and
 * the field, as the config's other fields do.
 */
export function checkConfigSuiteNames(config: ResolvedConfig, file: string): void {
  for (const name of Object.keys(config.suites)) {
    if (!isSuiteName(name))
      throw new UsageError(
        `${path.basename(file)}: invalid suites.${name}: no suite named '${name}'; ${knownSuites()}`,
      );
  }
}

/** The suites named (on a command line, by a script), each one dbproof ships. */
export function suitesNamed(names: string[]): SuiteDefinition[] {
  return names.map((name) => {
    if (!isSuiteName(name)) throw new UsageError(`no suite named '${name}'; ${knownSuites()}`);
    return SUITES[name] as unknown as SuiteDefinition;
  });
}

/**
 * Each suite with its options from the config, refused before anything starts when an
 * option is invalid or the planned topology cannot hold it. Every suite's options are
 * resolved (not only those with a preflight): a bad option costs no topology.
 */
export function planSuites(
  suites: SuiteDefinition[],
  config: ResolvedConfig,
  topology: ResolvedTopologySpec,
): PlannedSuite[] {
  return suites.map((suite) => {
    const options = config.suites[suite.name];
    const resolved = resolveSuiteOptions(suite, options);
    suite.preflight?.(resolved, topology);
    checkRequirements(suite, topology);
    return { suite, options };
  });
}
