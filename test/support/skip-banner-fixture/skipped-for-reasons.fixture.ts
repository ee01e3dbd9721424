// Tests skipped for reasons (counted by the banner), beside a plain skip and a test that runs (not counted).
import { describe, expect, test } from 'vitest';
import { skipUnless } from '../skips.ts';

const noEngine = { reason: 'no engine here', toRunIt: 'start one' };

describe('needs an engine', skipUnless(false, noEngine), () => {
  test('first', () => expect.fail('skipped'));
  describe('nested', () => {
    test('second', () => expect.fail('skipped'));
  });
});

test('needs an image', skipUnless(false, { reason: 'no image', toRunIt: 'build it' }), () => expect.fail('skipped'));

test('skips itself at run time', (context) => context.skip('no quota on this file system'));

test.skip('a plain skip says nothing', () => expect.fail('skipped'));

test('runs where the engine answers', skipUnless(true, noEngine), () => expect(1).toBe(1));
