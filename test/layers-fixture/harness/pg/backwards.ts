// A deliberate backwards import (base → run), for test/unit/layers.test.ts: the layer check must refuse it.
import { planned } from '../run/plan.ts';

export const backwards = planned;
