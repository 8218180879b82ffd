/**
 * bench:abuse's health prober, in a process of its own: one GET /api/health every 20 ms (never
 * two at once, so a stalled coordinator shows as a long sample, not a pile of them). `{ phase }`
 * starts a phase, `{ end: true }` replies with its latencies; a request that fails or takes
 * past 10 s counts as an error.
 */
const url = process.argv[2];
let times: number[] = [];
let errors = 0;
let running = true;

async function probe() {
  while (running) {
    const t = performance.now();
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(10_000) });
      await res.json();
      if (!res.ok) errors++;
      else times.push(performance.now() - t);
    } catch {
      errors++;
    }
    const left = 20 - (performance.now() - t);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
}

const at = (sorted: number[], q: number) =>
  sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] * 10) / 10
    : null;

process.on('message', (m: { phase?: string; end?: boolean; stop?: boolean }) => {
  if (m.phase) {
    times = [];
    errors = 0;
  } else if (m.end) {
    const sorted = [...times].sort((a, b) => a - b);
    process.send?.({
      samples: sorted.length,
      errors,
      p50Ms: at(sorted, 0.5),
      p99Ms: at(sorted, 0.99),
      maxMs: sorted.length ? Math.round(sorted[sorted.length - 1] * 10) / 10 : null,
    });
  } else if (m.stop) {
    running = false;
    process.exit(0);
  }
});
void probe();
process.send?.({ ready: true });
