/**
 * The alert engine: each evaluation hands it every finding that holds now; a finding not seen
 * before fires (counted in gridtab_alert_firings_total, gridtab_alert_active set to 1, logged),
 * one that no longer holds resolves (gauge back to 0). Rules live in alert-rules.ts, their
 * inputs are gathered in alert-inputs.ts; the clock is injected so tests control time.
 */
import type { ConsoleAlert } from '@gridtab/shared';
import type { Counter, Gauge } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Finding } from './alert-rules.ts';

/** Resolved alerts kept for the console's list. */
const KEEP_RESOLVED = 20;

export interface AlertEngineDeps {
  clock: Clock;
  log: (msg: string) => void;
  metrics: { alertActive: Gauge<'rule' | 'subject'>; alertFirings: Counter<'rule'> };
}

export class AlertEngine {
  private readonly active = new Map<string, ConsoleAlert>();
  private resolved: ConsoleAlert[] = [];

  constructor(private readonly deps: AlertEngineDeps) {}

  update(findings: Finding[]): void {
    const now = this.deps.clock.now();
    const seen = new Set<string>();
    for (const f of findings) {
      const id = `${f.rule}:${f.subject}`;
      seen.add(id);
      const held = this.active.get(id);
      if (held) {
        held.message = f.message;
        continue;
      }
      this.active.set(id, { id, ...f, since: now, resolvedAt: null });
      this.deps.metrics.alertFirings.inc({ rule: f.rule });
      this.deps.metrics.alertActive.set({ rule: f.rule, subject: f.subject }, 1);
      this.deps.log(`alert ${f.rule} fired for ${f.subject}: ${f.message}`);
    }
    for (const [id, alert] of this.active) {
      if (seen.has(id)) continue;
      this.active.delete(id);
      this.deps.metrics.alertActive.set({ rule: alert.rule, subject: alert.subject }, 0);
      this.resolved = [{ ...alert, resolvedAt: now }, ...this.resolved].slice(0, KEEP_RESOLVED);
      this.deps.log(`alert ${alert.rule} for ${alert.subject} resolved`);
    }
  }

  /** Active alerts, oldest first, then the most recently resolved. */
  list(): ConsoleAlert[] {
    return [...[...this.active.values()].map((a) => ({ ...a })), ...this.resolved];
  }
}
