import { Rng, uniform, zipf } from '../../fixtures/dataset/random.ts';
import type { EngineRequest } from './types.ts';

/**
 * The path of each request: the URL's, with `{id}` drawn from the seeded ids (Zipf: a few
 * hot rows, a long tail, as real traffic is). Seeded, so a run replays the same sequence.
 */
export function pathPicker(request: EngineRequest): () => string {
  const url = new URL(request.url.replaceAll('{id}', '__ID__'));
  const template = `${url.pathname}${url.search}`;
  if (!request.ids || !template.includes('__ID__')) return () => template;
  const { from, to, skew } = request.ids;
  const distribution = skew === 0 ? uniform(from, to) : zipf(from, to, skew);
  const rng = new Rng(42, template);
  return () => template.replaceAll('__ID__', String(distribution.sample(rng)));
}
