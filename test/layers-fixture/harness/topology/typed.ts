// A type-only import from a layer above costs nothing at run time: allowed.
import type { Planned } from '../run/plan.ts';

export const typed: Planned = 1;
