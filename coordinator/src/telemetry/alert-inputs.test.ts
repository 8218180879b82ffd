/**
 * The alert rules fed from a real coordinator's state (store, registry, SDK telemetry) with a
 * manual clock: promotions of a worse version, drift of reported predictions against the
 * test set, and a stalled job, each firing and clearing as the state changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { commitVersion } from '../registry/testing.ts';
import { addJob, startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { AlertInputs } from './alert-inputs.ts';
import { DEFAULT_ALERT_THRESHOLDS } from './alert-rules.ts';
import { DriftReferences } from './drift-reference.ts';

describe('alert inputs from a running coordinator', () => {
  let co: TestCoordinator;
  const clock = new ManualClock(Date.parse('2026-11-24T00:00:00Z'));
  let inputs: AlertInputs;
  const rules = async () => (await inputs.findings()).map((f) => `${f.rule} ${f.subject}`);

  beforeAll(async () => {
    co = await startTestCoordinator({}, { clock });
    inputs = new AlertInputs({
      store: co.store,
      registry: co.registry,
      telemetry: co.inferenceTelemetry,
      outcomes: co.outcomes,
      references: new DriftReferences(co.blobs),
      clock,
      thresholds: DEFAULT_ALERT_THRESHOLDS,
    });
  });
  afterAll(async () => co.destroy());

  it('fires no-progress for a running job past the bound, and not once it is paused', async () => {
    const job = await addJob(co, { name: 'stalled' });
    expect(await rules()).not.toContain(`no-progress ${job.id}`);
    clock.advance(DEFAULT_ALERT_THRESHOLDS.noProgressMs + 1);
    expect(await rules()).toContain(`no-progress ${job.id}`);
    await co.scheduler.setStatus(job.id, 'paused');
    expect(await rules()).not.toContain(`no-progress ${job.id}`);
  });

  it('fires accuracy-after-promotion when an alias moves to a worse version; a rollback clears it', async () => {
    const job = await addJob(co, { name: 'promoted' });
    const good = await commitVersion(co, job.id, 0.86);
    const worse = await commitVersion(co, job.id, 0.8);
    await co.scheduler.setStatus(job.id, 'paused');
    const [model] = (await co.registry.listModels()).filter((m) => m.name === 'promoted');
    await co.registry.moveAlias(model.name, 'production', { versionId: good.id });
    expect(await rules()).not.toContain('accuracy-after-promotion promoted/production');
    await co.registry.moveAlias(model.name, 'production', { versionId: worse.id });
    expect(await rules()).toContain('accuracy-after-promotion promoted/production');
    await co.registry.rollback(model.name, 'production');
    expect(await rules()).not.toContain('accuracy-after-promotion promoted/production');
  });

  it('fires drift when SDKs report one class only, against the test set mix', async () => {
    const job = await addJob(co, { name: 'deployed' });
    const v = await commitVersion(co, job.id, 0.8);
    await co.scheduler.setStatus(job.id, 'paused');
    const report = (classCounts: number[]) =>
      co.inferenceTelemetry.record({
        name: 'deployed',
        versionId: v.id,
        backend: 'webgl',
        predictions: 200,
        errors: 0,
        latenciesMs: [3, 4],
        classCounts,
        inputMean: null,
        inputStd: null,
      });
    report(new Array(10).fill(20)); // the synthetic test set is close to uniform
    expect(await rules()).not.toContain(`drift deployed/${v.id}`);
    report([2000, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await rules()).toContain(`drift deployed/${v.id}`);
  });
});
