/** Whose CPU use the noise monitor counts apart: who else used the machine is what is left. */
export type Party = 'dbproof' | 'app' | 'postgres';

/** The processes the caller started, per party; each counts with every process below it. */
export interface PartyPids {
  dbproof: readonly number[];
  app: readonly number[];
  postgres: readonly number[];
  /**
   * Command names of shared processes that work for the topology (a container engine's
   * daemons and port proxies): each such process counts as Postgres's, on its own (not its
   * descendants: a container engine's shim is the parent of other people's containers too).
   */
  postgresNames?: readonly string[];
}

/** Claimed first: dbproof starts the app and Postgres, so they sit inside its tree, yet are not dbproof's own use. */
const CLAIM_ORDER: readonly Party[] = ['app', 'postgres', 'dbproof'];

/**
 * The party of each process in `parents` (pid → its parent's pid) that descends from, or
 * is, one of `roots`. Each process counts once: the app's and Postgres's trees are claimed
 * first, and dbproof's tree stops where one of theirs begins.
 */
export function assignParties(
  parents: ReadonlyMap<number, number>,
  roots: PartyPids,
  names: ReadonlyMap<number, string> = new Map(),
): Map<number, Party> {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
  }
  const partyOf = new Map<number, Party>();
  for (const party of CLAIM_ORDER) {
    const queue = roots[party].filter((pid) => parents.has(pid) && !partyOf.has(pid));
    for (const pid of queue) partyOf.set(pid, party);
    while (queue.length) {
      for (const child of children.get(queue.pop()!) ?? []) {
        if (partyOf.has(child)) continue;
        partyOf.set(child, party);
        queue.push(child);
      }
    }
  }
  const workers = new Set(roots.postgresNames ?? []);
  if (workers.size > 0)
    for (const [pid, name] of names) if (!partyOf.has(pid) && workers.has(name)) partyOf.set(pid, 'postgres');
  return partyOf;
}
