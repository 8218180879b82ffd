/**
 * Prometheus metrics through prom-client, on a registry owned by one coordinator (no global
 * default registry), so several coordinators can live in one test process.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gridtab_' });
  const m = {
    registry,
    contributorsConnected: new Gauge({
      name: 'gridtab_contributors_connected',
      help: 'Contributor sockets that have joined',
      registers: [registry],
    }),
    unitsAssigned: new Counter({
      name: 'gridtab_units_assigned_total',
      help: 'Work units leased to contributors',
      registers: [registry],
    }),
    updatesAccepted: new Counter({
      name: 'gridtab_updates_accepted_total',
      help: 'Updates validated and stored',
      registers: [registry],
    }),
    updatesRejected: new Counter({
      name: 'gridtab_updates_rejected_total',
      help: 'Updates refused, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    samplesTrained: new Counter({
      name: 'gridtab_samples_trained_total',
      help: 'Training samples in accepted updates',
      registers: [registry],
    }),
    roundsClosed: new Counter({
      name: 'gridtab_rounds_closed_total',
      help: 'Rounds aggregated into versions',
      registers: [registry],
    }),
    aggregationSeconds: new Histogram({
      name: 'gridtab_round_close_seconds',
      help: 'Time to aggregate, evaluate and commit a round',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobAccuracy: new Gauge({
      name: 'gridtab_job_test_accuracy',
      help: 'Test accuracy of the job latest version',
      labelNames: ['job'],
      registers: [registry],
    }),
    jobRound: new Gauge({
      name: 'gridtab_job_round',
      help: 'Current round of each job',
      labelNames: ['job'],
      registers: [registry],
    }),
    contributorSamplesPerSec: new Gauge({
      name: 'gridtab_contributor_samples_per_second',
      help: 'Sum of the training throughput that connected contributors report',
      registers: [registry],
    }),
    badMessages: new Counter({
      name: 'gridtab_bad_messages_total',
      help: 'Socket messages refused at the boundary, by event and code',
      labelNames: ['event', 'code'],
      registers: [registry],
    }),
    jobUpdatesRejected: new Counter({
      name: 'gridtab_job_updates_rejected_total',
      help: 'Updates the scheduler refused for a job, by job and error code',
      labelNames: ['job', 'code'],
      registers: [registry],
    }),
    storeCallSeconds: new Histogram({
      name: 'gridtab_store_call_seconds',
      help: 'Latency of Store calls, by method',
      labelNames: ['method'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    sockets: new Gauge({
      name: 'gridtab_sockets',
      help: 'Open socket.io connections, by namespace',
      labelNames: ['namespace'],
      registers: [registry],
    }),
    alertActive: new Gauge({
      name: 'gridtab_alert_active',
      help: '1 while an alert rule holds for a subject, 0 after it cleared',
      labelNames: ['rule', 'subject'],
      registers: [registry],
    }),
    alertFirings: new Counter({
      name: 'gridtab_alert_firings_total',
      help: 'Times an alert rule started to hold for some subject',
      labelNames: ['rule'],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
