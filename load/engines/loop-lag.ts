/**
 * A closed model's own lateness (issue 13): its next request goes out when the engine's
 * event loop has handled the previous response, so a loop held up by a busy machine delays
 * every client by as long. This samples that hold-up: a timer due every `everyMs`, and how
 * late it fired. `onLate(t, lateMs)` gets each sample, `t` in ms after `origin`
 * (a `performance.now()` value). Returns the function that stops it.
 */
export function sampleLoopLag(origin: number, onLate: (t: number, lateMs: number) => void, everyMs = 10): () => void {
  let due = performance.now() + everyMs;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = performance.now();
    if (now >= origin) onLate(due - origin, Math.max(0, now - due));
    // The next tick is due from now: lateness is not carried over into the next sample.
    due = now + everyMs;
    timer = setTimeout(tick, everyMs);
    timer.unref();
  };
  timer = setTimeout(tick, everyMs);
  timer.unref();
  return () => clearTimeout(timer);
}
