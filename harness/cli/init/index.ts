import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILES } from '../../config/files.ts';
import { UsageError } from '../../errors.ts';
import { CI_FILES, ciTemplate, type CiSystem } from './ci-template.ts';
import { configTemplate, EXAMPLE_SUITE, type InitLayout, type ProjectFacts } from './config-template.ts';
import { suiteTemplate } from './suite-template.ts';

export { CI_SYSTEMS, type CiSystem } from './ci-template.ts';
export type { ProjectFacts } from './config-template.ts';

export interface InitOptions {
  /** The project's folder (it must exist). */
  dir: string;
  ci: CiSystem;
}

export interface InitOutcome {
  /** What was written, relative to the project's folder, in order. */
  files: string[];
  facts: ProjectFacts;
}

/** What package.json says (nothing when there is none, or it is not JSON: the config then has placeholders). */
export function projectFacts(dir: string): ProjectFacts {
  let manifest: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (parsed && typeof parsed === 'object') manifest = parsed as Record<string, unknown>;
  } catch {
    // No package.json, or one that is not JSON: init writes placeholders and says so.
  }
  const field = (name: string) =>
    (manifest[name] && typeof manifest[name] === 'object' ? manifest[name] : {}) as object;
  return {
    name: typeof manifest.name === 'string' && manifest.name !== '' ? manifest.name : undefined,
    hasStartScript: typeof (field('scripts') as { start?: unknown }).start === 'string',
    hasDbproof: ['dependencies', 'devDependencies'].some((deps) => Object.hasOwn(field(deps), 'dbproof')),
    esModules: manifest.type === 'module',
  };
}

/** The files init writes, relative to the project's folder, with their text: TypeScript as ES modules (.mts where package.json does not say "type": "module"). */
export function initFiles(facts: ProjectFacts, ci: CiSystem): { file: string; text: string }[] {
  const extension = facts.esModules ? '.ts' : '.mts';
  const layout: InitLayout = {
    config: CONFIG_FILES.find((file) => file.endsWith(extension))!,
    suite: `dbproof/suites/${EXAMPLE_SUITE}${extension}`,
  };
  return [
    { file: layout.config, text: configTemplate(facts, layout) },
    { file: layout.suite, text: suiteTemplate() },
    ...(ci === 'none' ? [] : [{ file: CI_FILES[ci], text: ciTemplate(ci) }]),
  ];
}

/**
 * Writes a config, an example team suite and a CI job into the project's folder. Never over
 * a file: when any of them exists (or a config of the other extension, which a run would
 * read first), nothing is written and the UsageError names each one.
 */
export function initProject(options: InitOptions): InitOutcome {
  const dir = path.resolve(options.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--dir ${dir}: no such folder`);
  const facts = projectFacts(dir);
  const files = initFiles(facts, options.ci);
  const targets = [...new Set([...CONFIG_FILES, ...files.map((f) => f.file)])];
  const existing = targets.filter((file) => existsSync(path.join(dir, file)));
  if (existing.length > 0) {
    const them = existing.length === 1 ? 'it' : 'them';
    throw new UsageError(
      `${existing.join(', ')} already ${existing.length === 1 ? 'exists' : 'exist'} in ${dir}: dbproof init writes nothing over a file; move ${them} away, or edit ${them} instead`,
    );
  }
  for (const { file, text } of files) {
    const target = path.join(dir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    try {
      // 'wx': a file that appeared since the check is still not overwritten.
      writeFileSync(target, text, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new UsageError(`${file} appeared in ${dir} while dbproof init wrote; it was left as it is`);
    }
  }
  return { files: files.map((f) => f.file), facts };
}
