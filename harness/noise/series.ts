/**
 * A rate measured over intervals (a counter's delta between two samples, divided by the
 * time between them), averaged per bucket, each interval weighted by how much of it falls
 * in the bucket. The sampler's timer runs late on a busy machine, or when the event loop
 * is busy: its intervals then straddle buckets, and are shared out, never dropped.
 */
export class BucketSeries {
  readonly #bucketMs: number;
  readonly #sum: number[] = [];
  readonly #weight: number[] = [];

  constructor(bucketMs: number) {
    this.#bucketMs = bucketMs;
  }

  /** `rate` held from `fromMs` to `toMs` (ms after the monitor started). */
  add(fromMs: number, toMs: number, rate: number): void {
    const size = this.#bucketMs;
    for (let bucket = Math.floor(fromMs / size); bucket * size < toMs; bucket++) {
      const overlap = Math.min(toMs, (bucket + 1) * size) - Math.max(fromMs, bucket * size);
      if (overlap <= 0) continue;
      this.#sum[bucket] = (this.#sum[bucket] ?? 0) + rate * overlap;
      this.#weight[bucket] = (this.#weight[bucket] ?? 0) + overlap;
    }
  }

  /** The time-weighted mean rate in bucket `index`; null when no interval covered any of it. */
  at(index: number): number | null {
    const weight = this.#weight[index];
    return weight ? this.#sum[index]! / weight : null;
  }
}
