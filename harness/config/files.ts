import { packageFile } from '../package-files.ts';

// The config's file names, in a module of their own: light enough for the CLI (`init`,
// `--demo`) to name them before it loads the config's schema.

/**
 * The files a run reads when it is given none, the first found. `dbproof init` writes the
 * .ts in an ES module package and the .mts elsewhere: a .mts file is an ES module whatever
 * package.json says, so a CommonJS project's config loads too.
 */
export const CONFIG_FILES = ['dbproof.config.ts', 'dbproof.config.mts'] as const;

/** The reference app's demo configuration (example/): what `--demo` runs, `planRun({ config: DEMO_CONFIG })` from a script. */
export const DEMO_CONFIG = packageFile('example/dbproof.config.ts');
