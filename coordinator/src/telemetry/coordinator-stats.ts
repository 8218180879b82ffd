/**
 * The coordinator's own health for the console's Telemetry page: event-loop delay
 * (perf_hooks.monitorEventLoopDelay), memory, open sockets, round aggregation time and store
 * latency. `roll()` closes a period (one second, driven by app.ts); `latest` is what the last
 * period saw. The same observations feed the Prometheus histograms in metrics.ts.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { CoordinatorTelemetry } from '@gridtab/shared';
import type { Metrics } from './metrics.ts';
import { SampleWindow } from './window.ts';

export type SocketCounts = CoordinatorTelemetry['sockets'];

const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);

export class CoordinatorStats {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly storeCalls = new SampleWindow();
  private readonly rounds = new SampleWindow(200);
  latest: CoordinatorTelemetry;

  constructor(
    private readonly metrics: Metrics,
    private readonly sockets: () => SocketCounts,
  ) {
    this.loop.enable();
    this.latest = this.snapshot();
  }

  observeStore = (method: string, seconds: number): void => {
    this.storeCalls.add(seconds * 1000);
    this.metrics.storeCallSeconds.observe({ method }, seconds);
  };

  observeRound(seconds: number): void {
    this.rounds.add(seconds);
  }

  /** Ends the current period: its figures become `latest`, and the period counters restart. */
  roll(): CoordinatorTelemetry {
    this.latest = this.snapshot();
    this.loop.reset();
    this.storeCalls.drain();
    for (const [namespace, n] of Object.entries(this.latest.sockets))
      this.metrics.sockets.set({ namespace }, n);
    return this.latest;
  }

  private snapshot(): CoordinatorTelemetry {
    const mem = process.memoryUsage();
    return {
      eventLoopLagMs: {
        p50: ms(this.loop.percentile(50)),
        p99: ms(this.loop.percentile(99)),
        max: ms(this.loop.max),
      },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      sockets: this.sockets(),
      aggregation: {
        rounds: this.rounds.count,
        lastSeconds: this.rounds.last,
        p95Seconds: this.rounds.quantile(0.95),
      },
      store: {
        calls: this.storeCalls.count,
        p50Ms: this.storeCalls.quantile(0.5),
        p95Ms: this.storeCalls.quantile(0.95),
      },
    };
  }

  close(): void {
    this.loop.disable();
  }
}
