import type { ZodError } from 'zod';

/**
 * Errors a user can act on. The CLI prints `message` as one line (no stack trace)
 * and exits with `exitCode`: 2 for bad input or missing infrastructure, which is
 * what CI systems read as "the check could not run" rather than "the check failed".
 */
export class DbproofError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DbproofError';
    this.exitCode = options.exitCode ?? 2;
  }
}

/** The user asked for something that cannot be: a bad flag, value or config field. */
export class UsageError extends DbproofError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** Something the machine lacks (binaries, a user, a port) or a process that would not start. */
export class InfrastructureError extends DbproofError {
  constructor(message: string, cause?: unknown) {
    super(message, { exitCode: 2, cause });
    this.name = 'InfrastructureError';
  }
}

/**
 * The first problem zod found, as `field: what it should be`: the field a dotted path
 * (`suites.replica-lost.read`, under `under` when the value sits inside something larger),
 * `whole` when the value itself is wrong. Every schema at dbproof's edge (config, topology,
 * suite options, state and results files) says its refusal this way.
 */
export function zodIssue(error: ZodError, whole: string, under: readonly PropertyKey[] = []): string {
  const issue = error.issues[0]!;
  const field = [...under, ...issue.path].map(String).join('.') || whole;
  return `${field}: ${issue.message}`;
}
