// A module in a folder no layer names: the check says to give it one.
import { planned } from '../run/plan.ts';

export const unplaced = planned;
