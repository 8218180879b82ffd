/**
 * bench:train's timing of the gaps between units, read off the coordinator's scheduler (the
 * same object the sockets call): each tab's busy fraction (the training time its updates report,
 * over the wall time from its first unit to the end of the run) and each round's turnaround (from
 * its last accepted update to the next round's first assignment). Wrapping the scheduler's
 * methods keeps the bench measuring any coordinator, before or after a change to it.
 */
import type { Scheduler } from '../coordinator/src/scheduler/scheduler.ts';

export interface TabTiming {
  contributorId: string;
  units: number;
  trainSeconds: number;
  wallSeconds: number;
  busy: number;
}

export interface Turnaround {
  rounds: number;
  meanMs: number;
  p50Ms: number;
  maxMs: number;
}

export class TrainTiming {
  private readonly firstUnit = new Map<string, number>();
  private readonly trainMs = new Map<string, number>();
  private readonly units = new Map<string, number>();
  /** Per round: when its last update was accepted, and when its first unit went out. */
  private readonly lastAccepted = new Map<number, number>();
  private readonly firstAssigned = new Map<number, number>();

  constructor(scheduler: Scheduler) {
    const request = scheduler.requestUnit.bind(scheduler);
    const submit = scheduler.submit.bind(scheduler);
    scheduler.requestUnit = async (contributorId) => {
      const offer = await request(contributorId);
      if (offer.unit) {
        const now = performance.now();
        if (!this.firstUnit.has(contributorId)) this.firstUnit.set(contributorId, now);
        if (!this.firstAssigned.has(offer.unit.round)) this.firstAssigned.set(offer.unit.round, now);
      }
      return offer;
    };
    scheduler.submit = async (contributorId, meta, payload) => {
      const ack = await submit(contributorId, meta, payload);
      if (ack.accepted) {
        this.trainMs.set(contributorId, (this.trainMs.get(contributorId) ?? 0) + meta.trainMs);
        this.units.set(contributorId, (this.units.get(contributorId) ?? 0) + 1);
        this.lastAccepted.set(ack.round, performance.now());
      }
      return ack;
    };
  }

  /** When the run's last update was accepted (performance.now()). */
  lastAcceptedAt(): number {
    return Math.max(...this.lastAccepted.values());
  }

  /** Each tab's busy fraction, up to `end` (performance.now() when the job finished). */
  tabs(end: number): TabTiming[] {
    return [...this.firstUnit].map(([contributorId, first]) => {
      const trainSeconds = (this.trainMs.get(contributorId) ?? 0) / 1000;
      const wallSeconds = (end - first) / 1000;
      return {
        contributorId,
        units: this.units.get(contributorId) ?? 0,
        trainSeconds,
        wallSeconds,
        busy: trainSeconds / wallSeconds,
      };
    });
  }

  /** Last accepted update of round r to the first assignment of round r + 1, over all such pairs. */
  turnaround(): Turnaround {
    const gaps: number[] = [];
    for (const [round, last] of this.lastAccepted) {
      const next = this.firstAssigned.get(round + 1);
      if (next !== undefined) gaps.push(next - last);
    }
    gaps.sort((a, b) => a - b);
    const mean = gaps.reduce((s, g) => s + g, 0) / Math.max(1, gaps.length);
    return {
      rounds: gaps.length,
      meanMs: Math.round(mean),
      p50Ms: Math.round(gaps[Math.floor(gaps.length / 2)] ?? 0),
      maxMs: Math.round(gaps.at(-1) ?? 0),
    };
  }
}
