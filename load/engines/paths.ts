import { idDistribution, Rng } from '../../harness/random/index.ts';
import type { EngineRequest, MixEntry } from './types.ts';

/**
 * The path of each request: the template's, with `{id}` drawn from the seeded ids (Zipf: a
 * few hot rows, a long tail, as real traffic is). Seeded, so a run replays the same sequence.
 */
export function templatePicker(template: string, ids: EngineRequest['ids'], seed = 42): () => string {
  const marked = template.replaceAll('{id}', '__ID__');
  if (!ids || !marked.includes('__ID__')) return () => template;
  const distribution = idDistribution(ids);
  const rng = new Rng(seed, marked);
  return () => marked.replaceAll('__ID__', String(distribution.sample(rng)));
}

/** The URL's own path and query, `{id}` drawn per request. */
export function pathPicker(request: EngineRequest): () => string {
  const url = new URL(request.url.replaceAll('{id}', '__ID__'));
  return templatePicker(`${url.pathname}${url.search}`.replaceAll('__ID__', '{id}'), request.ids, seedOf(request));
}

/** Each worker of a split load draws a sequence of its own: the same seed would send the same ids W times. */
const seedOf = (request: EngineRequest) => 42 + (request.worker?.index ?? 0);

export interface PickedRequest {
  /** Index in the mix (0 for a single request). */
  endpoint: number;
  method: string;
  path: string;
}

/**
 * What to send next: for a mix, an entry drawn by weight (seeded), with its path; for a
 * single request, the URL's path. Each entry has its own `{id}` sequence.
 */
export function requestPicker(request: EngineRequest): () => PickedRequest {
  const mix: MixEntry[] | undefined = request.mix;
  if (!mix?.length) {
    const next = pathPicker(request);
    const method = request.method ?? 'GET';
    return () => ({ endpoint: 0, method, path: next() });
  }
  const paths = mix.map((entry) => templatePicker(entry.path, request.ids, seedOf(request)));
  const total = mix.reduce((sum, entry) => sum + entry.weight, 0);
  const rng = new Rng(seedOf(request), 'mix');
  return () => {
    let r = rng.next() * total;
    let endpoint = 0;
    while (endpoint < mix.length - 1 && r >= mix[endpoint]!.weight) r -= mix[endpoint++]!.weight;
    return { endpoint, method: mix[endpoint]!.method, path: paths[endpoint]!() };
  };
}

/**
 * Each endpoint's request as written (`GET /inspections/{id}`), in the order of
 * `PickedRequest.endpoint`: how the answers an engine saw are named (harness/http/seen.ts).
 */
export function writtenRequests(request: EngineRequest): string[] {
  if (request.mix?.length) return request.mix.map((entry) => entry.request);
  if (request.written) return [request.written];
  const url = new URL(request.url.replaceAll('{id}', '__ID__'));
  return [`${request.method ?? 'GET'} ${`${url.pathname}${url.search}`.replaceAll('__ID__', '{id}')}`];
}
