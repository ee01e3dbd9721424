import { fillValue } from '../../harness/http/session.ts';
import type { BadKind, Endpoint, Position } from './options.ts';

/** `{long}` in a bad item's fields: longer than any column with a length limit is likely to allow. */
const LONG = 'x'.repeat(10_000);

export interface BatchItem {
  /** Unique in the run: what the table's key column holds for this item. */
  key: string;
  /** 0-based place in the batch. */
  position: number;
  /** Set for a bad item. */
  kind?: BadKind;
}

export interface Batch {
  /** What the results call it: `middle check`, `fallback at 40`, … */
  name: string;
  /** The `{batch}` key: the same when the batch is sent again. */
  id: string;
  items: BatchItem[];
  /** The JSON body, every placeholder filled. */
  body: unknown;
}

/** The 0-based places of the bad items for `position` in a batch of `size`. */
export function badPlaces(position: Position, size: number): number[] {
  const middle = Math.floor(size / 2);
  switch (position) {
    case 'first':
      return [0];
    case 'middle':
      return [middle];
    case 'last':
      return [size - 1];
    case 'adjacent':
      return [middle - 1, middle];
    case 'all':
      return Array.from({ length: size }, (_, i) => i);
    default:
      return [position];
  }
}

/** The body template with its one `'{items}'` string replaced by the items. */
function placeItems(template: unknown, items: unknown[]): unknown {
  if (template === '{items}') return items;
  if (Array.isArray(template)) return template.map((v) => placeItems(v, items));
  if (template && typeof template === 'object')
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, placeItems(v, items)]));
  return template;
}

/**
 * Makes an endpoint's batches from its templates: each item with a key of its own, bad
 * items with their kind's fields laid over the good item, every batch with a key of its own.
 */
export class BatchMaker {
  #batches = 0;

  constructor(
    private readonly endpoint: Endpoint,
    /** A token of this run: keys never meet an earlier run's. */
    private readonly run: string,
  ) {}

  /** A batch of `size` items, bad (of `kind`) at the places given. */
  make(name: string, size: number, bad: ReadonlyMap<number, BadKind> = new Map()): Batch {
    const id = `bf-${this.run}-${++this.#batches}`;
    const items: BatchItem[] = [];
    const values: unknown[] = [];
    for (let position = 0; position < size; position++) {
      const kind = bad.get(position);
      const key = `${id}-${position}`;
      items.push({ key, position, ...(kind ? { kind } : {}) });
      values.push(this.#item(key, kind));
    }
    const body = placeItems(fillValue(this.endpoint.body, { batch: id, run: this.run }), values);
    return { name, id, items, body };
  }

  /** The item that holds the unique kind's values: a good item (it must be stored), sent before any batch conflicts with it. */
  holder(): Batch {
    const batch = this.make('unique holder', 1, new Map([[0, 'unique']]));
    return { ...batch, items: batch.items.map(({ key, position }) => ({ key, position })) };
  }

  #good(vars: Record<string, string>): Record<string, unknown> {
    return fillValue(this.endpoint.item, vars) as Record<string, unknown>;
  }

  #item(key: string, kind: BadKind | undefined): unknown {
    const vars = { key, long: LONG, run: this.run };
    if (!kind) return this.#good(vars);
    return { ...this.#good(vars), ...(fillValue(this.endpoint.badItems[kind], vars) as object) };
  }
}
