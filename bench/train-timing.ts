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
  /** Per round: each assignment's time, and each accepted update's time and reported training time. */
  private readonly assigned = new Map<number, number[]>();
  private readonly accepted = new Map<number, { at: number; trainMs: number }[]>();
  /** The coordinator's time on each submit, from the call to its answer. */
  private readonly submitMs: number[] = [];

  constructor(scheduler: Scheduler) {
    const request = scheduler.requestUnit.bind(scheduler);
    const submit = scheduler.submit.bind(scheduler);
    scheduler.requestUnit = async (contributorId) => {
      const offer = await request(contributorId);
      if (offer.unit) {
        const now = performance.now();
        if (!this.firstUnit.has(contributorId)) this.firstUnit.set(contributorId, now);
        if (!this.firstAssigned.has(offer.unit.round)) this.firstAssigned.set(offer.unit.round, now);
        push(this.assigned, offer.unit.round, now);
      }
      return offer;
    };
    scheduler.submit = async (contributorId, meta, payload) => {
      const called = performance.now();
      const ack = await submit(contributorId, meta, payload);
      this.submitMs.push(performance.now() - called);
      if (ack.accepted) {
        this.trainMs.set(contributorId, (this.trainMs.get(contributorId) ?? 0) + meta.trainMs);
        this.units.set(contributorId, (this.units.get(contributorId) ?? 0) + 1);
        this.lastAccepted.set(ack.round, performance.now());
        push(this.accepted, ack.round, { at: performance.now(), trainMs: meta.trainMs });
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

  /**
   * Where a synchronous round's wait comes from, medians over the rounds: how far apart its units
   * went out, how far apart its updates came in, and how far apart the training times they
   * report were (ms), and the coordinator's own time on a submit. A round whose units trained alike but came in apart waited on what
   * surrounds training; one whose training times differ waited on its slowest unit.
   */
  spread(): { rounds: number; assignedMs: number; acceptedMs: number; trainMs: number; submitMs: number } {
    const range = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    const rounds = [...this.accepted.keys()].filter((r) => (this.assigned.get(r)?.length ?? 0) > 1);
    return {
      rounds: rounds.length,
      assignedMs: median(rounds.map((r) => range(this.assigned.get(r)!))),
      acceptedMs: median(rounds.map((r) => range(this.accepted.get(r)!.map((a) => a.at)))),
      trainMs: median(rounds.map((r) => range(this.accepted.get(r)!.map((a) => a.trainMs)))),
      submitMs: median(this.submitMs),
    };
  }
}

function push<T>(map: Map<number, T[]>, key: number, value: T): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0);
}
