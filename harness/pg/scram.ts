import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { registerSecret } from '../redact.ts';

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, Postgres' stored format). dbproof sets
 * passwords with it, so that the clear password is never part of an SQL statement
 * (nor of pg_stat_statements or a server log).
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * A generated password: 24 URL-safe characters, no quoting needed anywhere. Registered
 * with redact(), so that no log, result or report shows it, in whatever form an app echoes it.
 */
export function generatePassword(): string {
  const password = randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
  registerSecret(password);
  return password;
}
