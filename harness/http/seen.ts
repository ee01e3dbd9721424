/**
 * One answer of each kind an app gave while a run watched: for a claim about every answer
 * (security headers on the 404 and the 500 too), the answers the other suites and their
 * engines got, not only the ones the checking suite asks for itself.
 */
export interface SeenAnswer {
  /** The app instance's base URL: answers of another app in the same process are not its. */
  origin: string;
  /** The request as written (`GET /inspections/{id}`): one kind per path, whatever the id. */
  request: string;
  status: number;
  /** Every header, `set-cookie` once per cookie. */
  headers: [string, string][];
}

/** Kinds kept at most: a run of many paths and statuses keeps its first ones. */
const MAX_KINDS = 500;

export class SeenAnswers {
  readonly #byKind = new Map<string, SeenAnswer>();

  static kindOf(answer: Pick<SeenAnswer, 'origin' | 'request' | 'status'>): string {
    return `${answer.origin} ${answer.request} ${answer.status}`;
  }

  /** Whether an answer of this kind would be kept (asked before its headers are copied). */
  wants(answer: Pick<SeenAnswer, 'origin' | 'request' | 'status'>): boolean {
    return this.#byKind.size < MAX_KINDS && !this.#byKind.has(SeenAnswers.kindOf(answer));
  }

  add(answer: SeenAnswer): void {
    if (this.wants(answer)) this.#byKind.set(SeenAnswers.kindOf(answer), answer);
  }

  addAll(answers: readonly SeenAnswer[] | undefined): void {
    for (const answer of answers ?? []) this.add(answer);
  }

  /** The first answer of each kind, in the order first seen. */
  list(): SeenAnswer[] {
    return [...this.#byKind.values()];
  }
}

/** This process's: filled by every `Session`, and by the engines that report theirs. */
export const seenAnswers = new SeenAnswers();

export function headerPairs(headers: Headers): [string, string][] {
  const pairs = [...headers.entries()].filter(([name]) => name !== 'set-cookie');
  return [...pairs, ...headers.getSetCookie().map((cookie): [string, string] => ['set-cookie', cookie])];
}

/**
 * Pairs from a raw header list as HTTP parsers give it (`[name, value, name, value, …]`),
 * names in lower case as `Headers` has them: for engines that parse answers themselves.
 */
export function rawHeaderPairs(raw: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return pairs;
}

export function headersOf(pairs: [string, string][]): Headers {
  const headers = new Headers();
  for (const [name, value] of pairs) headers.append(name, value);
  return headers;
}
