/**
 * The leases this coordinator has handed out: live ones (their unit is being trained), and
 * retired ones, of rounds that closed, kept a while so their holders hear STALE_VERSION rather
 * than LEASE_UNKNOWN. Late leases (past their deadline, still usable) are kept by their job's
 * runner, which knows how long they count; so is the unit a lease frees. With a lease log
 * (lease-log.ts) every lease is also a store row, for whoever runs the job next.
 */
import type { LeaseLog } from './lease-log.ts';
import type { Lease } from './round.ts';
import type { JobRunner } from './runner.ts';

/** How long past its deadline a lease of a closed round is still recognised (then LEASE_UNKNOWN). */
const RETIRED_MS = 10 * 60_000;

export class LeaseBook {
  private readonly live = new Map<string, Lease>();
  private readonly retired = new Map<string, Lease>();

  constructor(
    /** The runner of each job this process runs. */
    private readonly runners: ReadonlyMap<string, JobRunner>,
    private readonly unitsAvailable: () => void,
    /** The store's copy of the leases; null: they live in this process only. */
    readonly durable: LeaseLog | null = null,
  ) {}

  /** A live lease, else a late one (kept by its job's runner), else one of a closed round. */
  find(leaseId: string): Lease | undefined {
    const live = this.live.get(leaseId);
    if (live) return live;
    for (const runner of this.runners.values()) {
      const late = runner.late.get(leaseId);
      if (late) return late;
    }
    return this.retired.get(leaseId);
  }

  /** The lease is no longer live: its unit goes back; it may still deliver late while it can be used. */
  expire(lease: Lease): void {
    this.live.delete(lease.leaseId);
    if (this.runners.get(lease.jobId)?.free(lease)) this.unitsAvailable();
  }

  /** Forgets a lease wherever it is kept (used, refused, or released). */
  forget(lease: Lease): void {
    this.live.delete(lease.leaseId);
    this.retired.delete(lease.leaseId);
    this.runners.get(lease.jobId)?.late.delete(lease.leaseId);
    this.durable?.delete(lease.leaseId);
  }

  /** Its holder gives it up: its unit goes to someone else, and its result is not awaited. */
  release(contributorId: string, leaseId: string): boolean {
    const lease = this.find(leaseId);
    if (!lease || lease.contributorId !== contributorId) return false;
    if (this.live.has(leaseId)) this.expire(lease);
    this.forget(lease);
    return true;
  }

  /** Frees every lease a contributor holds for good, late ones included (an admin kicked it). */
  releaseAll(contributorId: string): number {
    const held = this.heldBy(contributorId);
    for (const lease of held) {
      this.expire(lease);
      this.forget(lease);
    }
    // Nor will its late results come.
    for (const { late } of this.runners.values())
      for (const l of [...late.values()]) if (l.contributorId === contributorId) late.delete(l.leaseId);
    return held.length;
  }

  add(lease: Lease): void {
    this.live.set(lease.leaseId, lease);
  }

  /** A new lease: live here, and in the store before its unit goes out. */
  async issue(lease: Lease): Promise<void> {
    this.add(lease);
    await this.durable?.put(lease);
  }

  has(leaseId: string): boolean {
    return this.live.has(leaseId);
  }

  get(leaseId: string): Lease | undefined {
    return this.live.get(leaseId);
  }

  /** No longer live (expired, used or given up); it may still be kept as late by its job. */
  remove(leaseId: string): void {
    this.live.delete(leaseId);
  }

  /** Its round closed: the holder's result comes too late. */
  retire(lease: Lease): void {
    this.live.delete(lease.leaseId);
    this.retired.set(lease.leaseId, lease);
  }

  /** The live leases, as a copy (callers expire some while they walk them). */
  all(): Lease[] {
    return [...this.live.values()];
  }

  heldBy(contributorId: string): Lease[] {
    return this.all().filter((l) => l.contributorId === contributorId);
  }

  inFlight(jobId: string): number {
    let n = 0;
    for (const l of this.live.values()) if (l.jobId === jobId) n++;
    return n;
  }

  /** Another process runs the job now: none of its leases is ours to judge. */
  dropJob(jobId: string): void {
    for (const l of [...this.live.values()]) if (l.jobId === jobId) this.live.delete(l.leaseId);
    for (const l of [...this.retired.values()]) if (l.jobId === jobId) this.retired.delete(l.leaseId);
  }

  /** Retired leases are kept for two rounds: forgets the job's older ones as `round` opens. */
  pruneRetired(jobId: string, round: number): void {
    for (const l of [...this.retired.values()])
      if (l.jobId === jobId && l.round < round - 2) this.retired.delete(l.leaseId);
  }

  /** Forgets retired leases long past their deadline. */
  sweepRetired(now: number): void {
    for (const l of [...this.retired.values()])
      if (now > l.deadline + RETIRED_MS) this.retired.delete(l.leaseId);
    this.durable?.sweep(now, RETIRED_MS);
  }
}
