// The negative control: a plain skip and a test that runs; no banner.
import { expect, test } from 'vitest';

test.skip('a plain skip says nothing', () => expect.fail('skipped'));

test('runs', () => expect(1).toBe(1));
