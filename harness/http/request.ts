import { z } from 'zod';
import { UsageError } from '../errors.ts';

/**
 * A request written the way people write them, `GET /inspections/{id}`: a method, white
 * space, a path starting with `/`. Placeholders in braces (`{id}`, `{K}`) are filled by
 * whoever sends it. Suites, load scenarios and the N+1 check all read requests through
 * here; each states what it can send as rules instead of a regex of its own.
 */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

/** A request string taken apart. */
export interface RequestLine {
  method: Method;
  path: string;
}

export interface RequestRules {
  /**
   * The methods this caller can send (a load scenario: GET and DELETE, which carry no body).
   * Default: all of `METHODS`.
   */
  methods?: readonly Method[];
  /** A placeholder the path must hold, e.g. `K` for the size the N+1 check puts in. */
  placeholder?: string;
  /** What a config field says about a string that breaks the rules. */
  hint?: string;
}

function requestPattern(rules: RequestRules): RegExp {
  const path = rules.placeholder ? `/\\S*\\{${rules.placeholder}\\}\\S*` : '/\\S*';
  return new RegExp(`^(${(rules.methods ?? METHODS).join('|')})\\s+(${path})$`);
}

/** A config field holding a request string, validated and kept as written. */
export function requestString(rules: RequestRules = {}) {
  return z.string().regex(requestPattern(rules), rules.hint ?? "a request such as 'GET /path'");
}

/**
 * The method and path of a request string (white space around it ignored); a usage error
 * with an example if it is not one.
 */
export function parseRequestLine(text: string, rules: RequestRules = {}): RequestLine {
  const match = requestPattern(rules).exec(text.trim());
  if (!match)
    throw new UsageError(`'${text}' is not a request: write it as '<METHOD> /path', e.g. 'GET /inspections/{id}'`);
  return { method: match[1] as Method, path: match[2]! };
}
