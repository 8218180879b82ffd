/**
 * What happened to submitted updates, for the console and the alert rules: refusals per job
 * and error code (the scheduler reports them), and each contributor's recent accepted and
 * refused updates, so a rising rejection rate can be noticed. In memory: counts restart with
 * the coordinator, which the console says.
 */
export interface ContributorOutcomes {
  contributorId: string;
  total: number;
  rejected: number;
}

export class UpdateOutcomes {
  private readonly byJob = new Map<string, Map<string, number>>();
  private readonly byContributor = new Map<string, { at: number; accepted: boolean }[]>();

  constructor(private readonly windowMs: number) {}

  rejected(code: string, jobId: string | null): void {
    if (!jobId) return;
    const codes = this.byJob.get(jobId) ?? new Map<string, number>();
    this.byJob.set(jobId, codes);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }

  rejectedFor(jobId: string): Record<string, number> {
    return Object.fromEntries(this.byJob.get(jobId) ?? []);
  }

  /** One submitted update of a contributor, accepted or refused, at epoch ms `at`. */
  submitted(contributorId: string, accepted: boolean, at: number): void {
    const list = this.byContributor.get(contributorId) ?? [];
    this.byContributor.set(contributorId, list);
    list.push({ at, accepted });
    this.prune(list, at);
  }

  /** Each contributor's updates within the window ending at `now`. */
  contributorRates(now: number): ContributorOutcomes[] {
    const out: ContributorOutcomes[] = [];
    for (const [contributorId, list] of this.byContributor) {
      this.prune(list, now);
      if (list.length === 0) {
        this.byContributor.delete(contributorId);
        continue;
      }
      out.push({ contributorId, total: list.length, rejected: list.filter((o) => !o.accepted).length });
    }
    return out;
  }

  private prune(list: { at: number }[], now: number): void {
    while (list.length > 0 && list[0].at < now - this.windowMs) list.shift();
  }
}
