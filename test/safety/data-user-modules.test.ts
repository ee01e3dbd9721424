// A config or a data set is a module the user names. Whatever the path points at, dbproof
// imports only .ts/.mts/.js/.mjs files, and a file that fails to load is reported in one
// line that never quotes it: a `.env` or a password file given by mistake must not end up
// in a terminal or a CI log (issue 12, item 5).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

const SECRET = 'hunter2-s3cr3t-value';
const dir = tempDir('user-modules');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
};
const app = { name: 'x', url: 'http://127.0.0.1:9' };
const configWithDataset = (name: string, datasetFile: string) =>
  file(
    `${name}.config.ts`,
    `export default ${JSON.stringify({ app, dataset: { file: datasetFile }, suites: { 'n-plus-one': {} } })};\n`,
  );

const cases: [string, string[], RegExp][] = [
  [
    'a .env file as --config',
    ['gate', '--config', file('.env', `DATABASE_PASSWORD=${SECRET}\n`)],
    /--config .*\.env is not a module: give a \.ts, \.mts, \.js, \.mjs file/,
  ],
  [
    'a text file as --dataset',
    ['seed', '--url', 'postgres://u@127.0.0.1:9/x', '--dataset', file('hostname', `${SECRET}\n`)],
    /--dataset .*hostname is not a module/,
  ],
  [
    'a .ts config that is not TypeScript',
    ['gate', '--config', file('secrets.config.ts', `root:${SECRET}:19000:0:99999:7:::\n`)],
    /could not be loaded: it is not valid TypeScript or JavaScript \(a syntax error at line 1, column \d+\)/,
  ],
  [
    'a .mjs config that is not JavaScript',
    ['test', '--config', file('secrets.mjs', `password ${SECRET}\n`)],
    /could not be loaded: it is not valid TypeScript or JavaScript \(a syntax error/,
  ],
  [
    // The temporary folder has no node_modules: as a project where dbproof is not installed yet.
    'a config that imports a package not installed',
    [
      'gate',
      '--config',
      file(
        'uninstalled.config.ts',
        "import { defineConfig } from 'dbproof-not-here';\nexport default defineConfig({});\n",
      ),
    ],
    /could not be loaded: it imports 'dbproof-not-here', which is not installed for it: run `npm install dbproof-not-here` in its project/,
  ],
  [
    'a config that throws a string',
    ['gate', '--config', file('throws-string.config.ts', 'throw "no config today";\nexport default {};\n')],
    /could not be loaded: it threw 'no config today', not an Error/,
  ],
  [
    'a config that throws an object',
    ['gate', '--config', file('throws-object.config.ts', 'throw { code: 42 };\nexport default {};\n')],
    /could not be loaded: it threw an object \(\{"code":42\}\), not an Error/,
  ],
  [
    'a config that throws an Error with a URL in it',
    [
      'gate',
      '--config',
      file('throws-url.config.ts', `throw new Error("no postgres://app:${SECRET}@db/x");\nexport default {};\n`),
    ],
    /could not be loaded: no postgres:\/\/app:\*\*\*@db\/x/,
  ],
  [
    'dataset.file that is a password file',
    ['gate', '--config', configWithDataset('shadow', file('shadow', `root:${SECRET}:19000\n`))],
    /dataset\.file .*shadow is not a module/,
  ],
  [
    'dataset.file that is a directory',
    ['gate', '--config', configWithDataset('dir', file('dir.ts', '').replace(/dir\.ts$/, ''))],
    /dataset\.file .* is not a module|is not a file/,
  ],
  [
    'dataset.file that exports no data set',
    ['gate', '--config', configWithDataset('nothing', file('nothing.ts', 'export const x = 1;\n'))],
    /dataset\.file .*nothing\.ts: export default defineDataset/,
  ],
];

describe('user modules: one line, exit 2, the file never quoted', () => {
  test.each(cases)('%s', async (_, args, message) => {
    const result = await runCli(args, { cwd: dir, env: { DBPROOF_STATE_DIR: path.join(dir, 'state') } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.stdout).toBe('');
  });
});
