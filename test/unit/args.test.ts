// The CLI's argument parser: `--name value`, `--name=value`, boolean flags, `--` ends the
// options; every mistake is a UsageError that says what to do.
import { describe, expect, test } from 'vitest';
import { integerOption, parseArgs, type OptionSpec } from '../../harness/cli/args.ts';
import { UsageError } from '../../harness/errors.ts';

const spec: Record<string, OptionSpec> = {
  json: { type: 'boolean' },
  replicas: { type: 'string' },
  at: { type: 'string', multiple: true },
};

describe('parseArgs', () => {
  test.each([
    [['--json'], { json: true }],
    [['--replicas', '2'], { replicas: '2' }],
    [['--replicas=2'], { replicas: '2' }],
    [['--replicas', '-1'], { replicas: '-1' }],
    [['--replicas=a=b'], { replicas: 'a=b' }],
    [['--at', '5=x', '--at', '25=y'], { at: ['5=x', '25=y'] }],
    [['-h'], { help: true }],
    [['--help'], { help: true }],
    [[], {}],
  ])('%j → %j', (argv, options) => {
    expect(parseArgs('up', argv, spec).options).toEqual(options);
  });

  test('everything after -- is the command, when the command takes one', () => {
    expect(parseArgs('exec', ['--json', '--', 'npm', 'test', '--json'], spec, true)).toEqual({
      options: { json: true },
      rest: ['npm', 'test', '--json'],
      positionals: [],
    });
  });

  test('positionals where the command takes them', () => {
    expect(parseArgs('n1', ['http://x/{K}', '--json'], spec, false, true).positionals).toEqual(['http://x/{K}']);
  });

  test.each([
    [['--nope'], false, /unknown option --nope for 'dbproof up'; see `dbproof up --help`/],
    [['--json=1'], false, /--json takes no value \(got '1'\)/],
    [['--replicas'], false, /--replicas needs a value/],
    [['stray'], false, /unexpected argument 'stray' for 'dbproof up'/],
    [['stray'], true, /put the command after --, e.g. `dbproof up -- npm test`/],
    [['--', 'x'], false, /'dbproof up' takes no command after --/],
  ])('%j is refused', (argv, allowRest, message) => {
    expect(() => parseArgs('up', argv, spec, allowRest)).toThrow(UsageError);
    expect(() => parseArgs('up', argv, spec, allowRest)).toThrow(message);
  });
});

describe('integerOption', () => {
  test.each([
    [undefined, undefined],
    ['0', 0],
    ['8', 8],
  ])('%j → %j', (raw, value) => {
    expect(integerOption('replicas', raw, 0, 8)).toBe(value);
  });
  test.each(['9', '-1', '1.5', 'two', '', '0x2', ' 2'])('%j is refused with the range', (raw) => {
    expect(() => integerOption('replicas', raw, 0, 8)).toThrow(
      `--replicas must be a whole number from 0 to 8 (got '${raw}')`,
    );
  });
});
