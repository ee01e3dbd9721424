import { expect, test } from 'vitest';
import { redact } from '../harness/redact.ts';

test('hides the password of every URL in a text and keeps the rest', () => {
  expect(redact('primary postgres://app:s3cr3t@127.0.0.1:5432/app and redis://:pw@127.0.0.1:6379')).toBe(
    'primary postgres://app:***@127.0.0.1:5432/app and redis://:***@127.0.0.1:6379',
  );
});

test('leaves URLs without a password alone', () => {
  expect(redact('postgres://app@127.0.0.1/app http://127.0.0.1:8080/x')).toBe('postgres://app@127.0.0.1/app http://127.0.0.1:8080/x');
});
