// The noise monitor's probe: a process of its own that sleeps 1 ms at a time and records
// how late each wake-up was (actual − intended), as cyclictest does. A process that wants
// the CPU back after 1 ms and does not get it sees CPU starvation, whoever causes it.
//
// Plain JavaScript on purpose: bare `node` starts it in tens of ms, with no TypeScript loader.
//
// Protocol. argv[2]: the bucket length in ms. stdout, one JSON object a line:
//   {"ready":"<process.hrtime.bigint() at the origin>"}     once, first; buckets count from that origin
//   {"b":<bucket>,"n":<wake-ups>,"max":<ms>,"p99":<ms>,"at":<ms>}   a bucket, when the next one begins
//   the same with "open":true                                 the bucket still running, asked by `flush`
// stdin lines: `flush` (send the running bucket), `stop` (send it and exit). When stdin
// closes (the parent ended, however it ended: the kernel closes the pipe), the probe exits.

const bucketMs = Number(process.argv[2]);
if (!(bucketMs >= 1)) {
  process.stderr.write(`the probe needs a bucket length in ms, got ${process.argv[2]}\n`);
  process.exit(2);
}

const PERIOD_MS = 1;
/** How long the probe sleeps in Atomics.wait before it lets its event loop read stdin. */
const SLICE_MS = 20;

// Atomics.wait sleeps on a futex with a µs timeout; a timer of the event loop would only
// wake to the whole ms, adding up to 1 ms of lateness of its own.
const cell = new Int32Array(new SharedArrayBuffer(4));
const originNs = process.hrtime.bigint();
const originMs = performance.now();
const now = () => performance.now() - originMs;

let bucket = 0;
let wakeups = 0;
let count = 0;
const lateness = new Float64Array(100_000);
let lastWakeup = 0;
// Each wake-up is due 1 ms after the previous one, so the time spent between two waits
// (recording, the event loop's turn) is watched too: a stall there is lateness as well.
let due = PERIOD_MS;

const round = (value) => Math.round(value * 1000) / 1000;

function report(open) {
  const samples = lateness.subarray(0, count).sort();
  const max = count ? samples[count - 1] : 0;
  const p99 = count ? samples[Math.max(0, Math.ceil(0.99 * count) - 1)] : 0;
  const line = { b: bucket, n: wakeups, max: round(max), p99: round(p99), at: round(lastWakeup) };
  if (open) line.open = true;
  // A pipe's writes are synchronous on Linux: nothing queues up in the probe.
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function record(woke, late) {
  const wokeIn = Math.floor(woke / bucketMs);
  // A wake-up that came late was awaited in every bucket from its due time on: each of them counts it.
  const dueIn = Math.floor((woke - late) / bucketMs);
  while (bucket < wokeIn) {
    if (dueIn <= bucket && count < lateness.length) lateness[count++] = late;
    report(false);
    bucket++;
    wakeups = 0;
    count = 0;
  }
  if (count < lateness.length) lateness[count++] = late;
  wakeups++;
  lastWakeup = woke;
}

function sleepAWhile() {
  const sliceEnd = now() + SLICE_MS;
  for (;;) {
    const wait = due - now();
    if (wait > 0) Atomics.wait(cell, 0, 0, wait);
    const woke = now();
    record(woke, Math.max(0, woke - due));
    due = woke + PERIOD_MS;
    if (woke >= sliceEnd) break;
  }
  setImmediate(sleepAWhile);
}

process.stdout.on('error', () => process.exit(1));
process.stdin.on('end', () => process.exit(1));
process.stdin.on('error', () => process.exit(1));
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  for (const command of text.split('\n')) {
    if (command === 'flush') report(true);
    else if (command === 'stop') {
      report(false);
      process.exit(0);
    }
  }
});

process.stdout.write(`${JSON.stringify({ ready: originNs.toString() })}\n`);
due = now() + PERIOD_MS;
sleepAWhile();
