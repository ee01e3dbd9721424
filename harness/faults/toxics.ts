import { DbproofError } from '../errors.ts';

/**
 * Toxiproxy's vocabulary, so that the same fault names work where a Toxiproxy server runs.
 * Toxics apply to open connections and new ones alike, as they are added and removed.
 */
export type Direction = 'upstream' | 'downstream';

export type Toxic =
  /** Delays data by `latency` ms ± `jitter` ms (order kept). */
  | { type: 'latency'; name?: string; direction?: Direction; latency: number; jitter?: number }
  /** Limits throughput to `rate` KB/s. */
  | { type: 'bandwidth'; name?: string; direction?: Direction; rate: number }
  /** Lets no data through (a black hole); closes the connection after `timeout` ms, never when 0. */
  | { type: 'timeout'; name?: string; direction?: Direction; timeout: number }
  /** Resets the connection (TCP RST) `timeout` ms after the toxic applies to it. */
  | { type: 'reset_peer'; name?: string; direction?: Direction; timeout: number }
  /** Delays the close of a connection by `delay` ms, whichever side closes first. */
  | { type: 'slow_close'; name?: string; direction?: Direction; delay: number };

export type NamedToxic = Toxic & { name: string; direction: Direction };

/**
 * The toxics active on one proxy, as its owner sees them: names given here (`latency_downstream_1`),
 * a name active at most once. The in-process proxy and the link host's proxies keep theirs
 * the same way, so a name never depends on where the proxy runs.
 */
export class ToxicList {
  #active: readonly NamedToxic[] = [];
  #counter = 0;

  /** The toxic with its name and direction; throws when the name is already active. */
  add(toxic: Toxic): NamedToxic {
    const name = toxic.name ?? `${toxic.type}_${toxic.direction ?? 'downstream'}_${++this.#counter}`;
    if (this.#active.some((t) => t.name === name))
      throw new DbproofError(`a toxic named ${name} is already active; remove it first`);
    const named = { ...toxic, name, direction: toxic.direction ?? 'downstream' } as NamedToxic;
    this.#active = [...this.#active, named];
    return named;
  }

  remove(name: string): void {
    this.#active = this.#active.filter((t) => t.name !== name);
  }

  clear(): void {
    this.#active = [];
  }

  /** A snapshot: a later change makes a new array. */
  get active(): readonly NamedToxic[] {
    return this.#active;
  }
}
