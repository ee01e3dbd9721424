import { expect, test } from 'vitest';
import { generatePassword } from '../harness/pg/scram.ts';
import { redact, redactDeep } from '../harness/redact.ts';

test('hides the password of every URL in a text and keeps the rest', () => {
  expect(redact('primary postgres://app:s3cr3t@127.0.0.1:5432/app and redis://:pw@127.0.0.1:6379')).toBe(
    'primary postgres://app:***@127.0.0.1:5432/app and redis://:***@127.0.0.1:6379',
  );
});

test('leaves URLs without a password alone', () => {
  expect(redact('postgres://app@127.0.0.1/app http://127.0.0.1:8080/x')).toBe(
    'postgres://app@127.0.0.1/app http://127.0.0.1:8080/x',
  );
});

test('hides key=value passwords: libpq conninfo, environment lines, JSON (also escaped inside a JSON string)', () => {
  expect(redact('host=127.0.0.1 port=5432 user=app password=s3cr3t dbname=app')).toBe(
    'host=127.0.0.1 port=5432 user=app password=*** dbname=app',
  );
  expect(redact("password='two words' host=x")).toBe("password='***' host=x");
  expect(redact('PGPASSWORD=s3cr3t psql -h x')).toBe('PGPASSWORD=*** psql -h x');
  expect(redact('POSTGRES_PASSWORD: s3cr3t')).toBe('POSTGRES_PASSWORD: ***');
  expect(redact('{"user":"app","password":"s3cr3t","db":"app"}')).toBe('{"user":"app","password":"***","db":"app"}');
  expect(redact('{"env":{"PGPASSWORD": "s3cr3t"}}')).toBe('{"env":{"PGPASSWORD": "***"}}');
  expect(redact(JSON.stringify(JSON.stringify({ password: 's3cr3t' })))).toBe(
    JSON.stringify(JSON.stringify({ password: '***' })),
  );
});

test("hides the run's generated passwords wherever they appear, in any form", () => {
  const password = generatePassword();
  expect(redact(`a log line that quotes ${password} bare, and ${encodeURIComponent(password)}`)).toBe(
    'a log line that quotes *** bare, and ***',
  );
  expect(redact(`auth failed: expected ${password.slice(0, 10)}`)).toContain(password.slice(0, 10)); // a part of it is no secret
});

test("hides SQL's passwords: a role's PASSWORD '…' (quotes doubled inside), a foreign server's OPTIONS (password '…')", () => {
  expect(redact("CREATE ROLE reporter LOGIN PASSWORD 'it''s s3cr3t' VALID UNTIL 'infinity'")).toBe(
    "CREATE ROLE reporter LOGIN PASSWORD '***' VALID UNTIL 'infinity'",
  );
  expect(redact("ALTER USER app WITH ENCRYPTED PASSWORD 'hunter2'")).toBe(
    "ALTER USER app WITH ENCRYPTED PASSWORD '***'",
  );
  expect(redact("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'x', password 'hunter2')")).toBe(
    "CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'x', password '***')",
  );
});

test('keeps what merely mentions a password', () => {
  const text = 'password authentication failed for user "app"; set PGPASSWORD or a password in the URL';
  expect(redact(text)).toBe(text);
});

test('redactDeep hides secrets in every string of a value and leaves the rest alone', () => {
  const value = {
    n: 1,
    ok: true,
    none: null,
    list: ['postgres://app:s3cr3t@h/app', 2],
    nested: { evidence: 'HTTP 500 {"password":"s3cr3t"}' },
  };
  expect(redactDeep(value)).toEqual({
    n: 1,
    ok: true,
    none: null,
    list: ['postgres://app:***@h/app', 2],
    nested: { evidence: 'HTTP 500 {"password":"***"}' },
  });
  expect(value.list[0]).toBe('postgres://app:s3cr3t@h/app'); // the original is not changed
});
