import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './errors.ts';
import { redact } from './redact.ts';

/** What dbproof imports from a user's files: configs and data sets, written as modules. */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

/** A thrown value's first line, never more than a line, passwords hidden. */
function firstLine(value: unknown): string {
  const text =
    value instanceof Error
      ? value.message
      : typeof value === 'string'
        ? value
        : (JSON.stringify(value) ?? String(value));
  const line = (text ?? '').split('\n')[0]!.trim();
  return redact(line.length > 200 ? `${line.slice(0, 200)}…` : line);
}

/**
 * Why an import failed, in one line that never quotes the file: a file that is not a
 * module (a `.env`, a password file) would otherwise be echoed into a terminal or a CI
 * log by the parser's message ("Unexpected identifier 'hunter2'"), so a syntax error
 * is reported by its position only.
 */
function importFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (error instanceof SyntaxError || /^Transform failed/.test(message)) {
    const at = /:(\d+):(\d+): ERROR/.exec(message);
    return `it is not valid TypeScript or JavaScript (a syntax error${at ? ` at line ${at[1]}, column ${at[2]}` : ''})`;
  }
  const missing = /Cannot find package '([^']+)' imported from/.exec(message);
  if (missing)
    return `it imports '${missing[1]}', which is not installed for it: run \`npm install ${missing[1] === 'dbproof' ? '-D ' : ''}${missing[1]}\` in its project`;
  if (/require\(\) ES Module|Cannot use import statement/.test(message)) {
    return 'it must load as an ES module: add "type": "module" to the nearest package.json, or name it .mts';
  }
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${firstLine(error)}`;
  return `it threw ${typeof error === 'string' ? `'${firstLine(error)}'` : `${error === null ? 'null' : /^[aeiou]/.test(typeof error) ? `an ${typeof error}` : `a ${typeof error}`} (${firstLine(error)})`}, not an Error`;
}

/**
 * tsx's loader, registered the first time a TypeScript module of the user's is imported by
 * the compiled package (from source, tsx or vitest already loads TypeScript). Only then:
 * its hooks slow every later import, and most commands never load a user's TypeScript.
 */
let typescriptLoader: Promise<void> | undefined;
function loadTypeScript(file: string): Promise<void> {
  if (!/\.m?ts$/.test(file) || import.meta.url.endsWith('.ts')) return Promise.resolve();
  typescriptLoader ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return typescriptLoader;
}

/**
 * Imports a module the user named (`--config`, `--dataset`, `dataset.file`): only a
 * .ts/.mts/.js/.mjs file that exists; every failure is one UsageError naming the file
 * and the fix. `what` says where the path came from, e.g. `--dataset`.
 */
export async function importUserModule(file: string, what: string): Promise<Record<string, unknown>> {
  const resolved = path.resolve(file);
  if (!MODULE_EXTENSIONS.includes(path.extname(resolved) as (typeof MODULE_EXTENSIONS)[number])) {
    throw new UsageError(`${what} ${resolved} is not a module: give a ${MODULE_EXTENSIONS.join(', ')} file`);
  }
  if (!existsSync(resolved)) throw new UsageError(`${what}: no such file ${resolved}`);
  if (!statSync(resolved).isFile()) throw new UsageError(`${what} ${resolved} is not a file`);
  try {
    await loadTypeScript(resolved);
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${what} ${resolved} could not be loaded: ${importFailure(error)}`);
  }
}
