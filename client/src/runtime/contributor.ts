/**
 * The contributor loop: join -> request a unit -> fetch shards and weights -> train -> submit.
 * Works the same in a browser tab and in Node; what differs (socket factory, cache, identity,
 * backends to try) is passed in. This file holds the runtime's state and its loop; the parts
 * live beside it: connection.ts (socket, joins, failover between coordinators), leasing.ts
 * (what to do with an offer), training.ts (backend choice, fetch, train), submission.ts
 * (encode, chunk, submit) and resume.ts (the unit kept across a reload).
 */

import { CONV_OPS, needsVerification, verifyKernels, watchDeviceLoss } from '@gridtab/kernels';
import {
  type Ack,
  type BackendName,
  type BackendScore,
  Endpoints,
  PROTOCOL_VERSION,
  type Result,
  type UpdateAck,
  type VersionEvent,
  type WorkUnit,
} from '@gridtab/shared';
import { Aborted, Trainer, type UnitCheckpoint } from '@gridtab/shared/trainer';
import * as tf from '@tensorflow/tfjs';
import { benchmarkBackends, CANDIDATES, chooseBackend, guessBackends, usesConvKernels } from './backends.ts';
import type { Behaviour } from './behaviour.ts';
import type { BlobCache } from './cache.ts';
import { Connection } from './connection.ts';
import { BlobFetcher } from './fetcher.ts';
import { type NextStep, requestWork } from './leasing.ts';
import { ModelScores } from './model-bench.ts';
import { clearSavedUnit, type SavedUnit, saveUnit, TOO_LATE, takeSavedUnit } from './resume.ts';
import { type SubmitFn, Submitter } from './submission.ts';
import { UnitTraining } from './training.ts';
import type { Contributor, ContributorState, UnitTimings } from './types.ts';

export interface ContributorOptions {
  /** One coordinator URL, or several (a list, or comma-separated) sharing one store. */
  coordinatorUrl: string | readonly string[];
  cache: BlobCache;
  clientId: string;
  kind: 'browser' | 'node';
  backends?: BackendName[];
  /** Milliseconds each backend trains in the start-up benchmark. */
  benchmarkMs?: number;
  /**
   * How the first backend is chosen when nothing is known yet: `guess` starts at once on the
   * likely one (guessBackends) and measures the job's model after the first unit; `measure`
   * times every backend on a small MLP first. Default: `guess` in browsers, where starting
   * WebGPU and WebGL and compiling their shaders is what made a first visit slow; `measure` in
   * Node, where the candidates are wasm and cpu and the benchmark takes about a second.
   */
  startup?: 'guess' | 'measure';
  userAgent?: string;
  fetchFn?: typeof fetch;
  log?: (msg: string) => void;
  /** Faults and attacks for the simulation harness; unset in real tabs. */
  behaviour?: Behaviour;
  /** How often the unit in progress is checkpointed to the cache (default 2000 ms). */
  checkpointEveryMs?: number;
}

const REFUSED_BACKOFF_MS = 1000;

export function createContributor(opts: ContributorOptions): Contributor {
  return new ContributorRuntime(opts);
}

class ContributorRuntime implements Contributor {
  state: ContributorState = {
    phase: 'idle',
    connected: false,
    contributorId: null,
    backends: [],
    chosenBackend: null,
    unitsDone: 0,
    samplesDone: 0,
    samplesPerSec: 0,
    loss: null,
    unitProgress: 0,
    currentJobId: null,
    versions: [],
    lastError: null,
  };
  private readonly listeners = new Set<(s: ContributorState) => void>();
  private readonly endpoints: Endpoints;
  private readonly fetcher: BlobFetcher;
  private readonly trainer = new Trainer();
  private readonly connection: Connection;
  private readonly training: UnitTraining;
  private readonly submitter: Submitter;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** A unit saved before a reload, to continue once joined. */
  private saved: SavedUnit | null = null;
  /** The saved unit's writes, in order (savedUnit). */
  private savingUnit: Promise<void> = Promise.resolve();
  /** The last unit's speed being recorded (UnitTraining.observe). */
  private observing: Promise<void> = Promise.resolve();
  /** The request for the next unit sent with the last update (sendAndAsk); the loop takes it. */
  private asked: Promise<NextStep> | null = null;
  /** Set by abandon(): nothing is released or cleared, as when a tab is closed. */
  private abandoned = false;
  /** Waits that only a version event would end (roundClosed), ended instead when the runtime stops. */
  private readonly onStop = new Set<() => void>();
  /** Phase times summed over the units done (state.timing); idleSince: when the last unit ended. */
  private readonly timing: UnitTimings = {
    units: 0,
    waitMs: 0,
    fetchMs: 0,
    weightsMs: 0,
    shardsMs: 0,
    setupMs: 0,
    trainMs: 0,
    submitMs: 0,
    afterMs: 0,
  };
  private idleSince: number | null = null;

  constructor(private readonly opts: ContributorOptions) {
    this.endpoints = new Endpoints(opts.coordinatorUrl);
    this.fetcher = new BlobFetcher(() => this.endpoints.current, opts.cache, opts.fetchFn);
    const log = (msg: string) => this.log(msg);
    this.connection = new Connection({
      endpoints: this.endpoints,
      joinMessage: () => ({
        protocolVersion: PROTOCOL_VERSION,
        clientId: opts.clientId,
        backends: this.state.backends,
        chosenBackend: this.state.chosenBackend ?? 'cpu',
        userAgent: opts.userAgent?.slice(0, 500),
        kind: opts.kind,
      }),
      listener: {
        connected: () =>
          this.set({
            connected: true,
            phase: this.state.phase === 'connecting' ? 'waiting' : this.state.phase,
          }),
        disconnected: () => this.set({ connected: false }),
        joined: (ack) => this.set({ contributorId: ack.contributorId, lastError: null }),
        joinRefused: (error) =>
          this.set({ lastError: `join refused: ${error.code} ${error.message}`, phase: 'error' }),
        unitAvailable: () => this.wake?.(),
        version: (event) => this.heardVersion(event),
      },
      active: () => this.running,
      log,
    });
    this.training = new UnitTraining({
      fetcher: this.fetcher,
      trainer: this.trainer,
      modelScores: new ModelScores(opts.cache),
      state: () => this.state,
      set: (patch) => this.set(patch),
      keep: (unit, checkpoint, backend) => this.keep(unit, checkpoint, backend),
      stopped: () => !this.running,
      labelMap: opts.behaviour?.relabel,
      checkpointEveryMs: opts.checkpointEveryMs,
      prepare: (unit, backend) => this.prepareModel(unit, backend),
      log,
    });
    this.submitter = new Submitter(this.connection, opts.cache, () => this.running, log);
  }

  /** The coordinator this runtime talks to now. */
  get coordinatorUrl(): string {
    return this.connection.url;
  }

  get fetchStats() {
    return this.fetcher.stats;
  }

  /** Shard and weight downloads in flight, until their bytes are in the cache. */
  get downloading(): number {
    return this.fetcher.downloading;
  }

  subscribe(listener: (s: ContributorState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<ContributorState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }

  private log(msg: string) {
    this.opts.log?.(msg);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.abandoned = false;
    await this.restore();
    if (this.state.backends.length === 0) {
      this.set({ phase: 'benchmarking' });
      const candidates = this.opts.backends ?? CANDIDATES;
      const guess = (this.opts.startup ?? (this.opts.kind === 'browser' ? 'guess' : 'measure')) === 'guess';
      const scores = guess
        ? await guessBackends(candidates)
        : await benchmarkBackends(candidates, this.opts.benchmarkMs);
      const chosen = chooseBackend(scores);
      if (!chosen) {
        this.running = false;
        this.set({
          phase: 'error',
          backends: scores,
          lastError: 'no TF.js backend could start on this device',
        });
        return;
      }
      // Our kernels only run on webgpu; verifying them costs seconds on a slow adapter, so only
      // when webgpu won the benchmark.
      if (chosen === 'webgpu') await this.prepareWebGPU();
      await tf.setBackend(chosen);
      this.set({ backends: scores, chosenBackend: chosen });
      this.log(`backends: ${scores.map((s) => `${s.name}=${s.samplesPerSec}`).join(' ')}; chose ${chosen}`);
    }
    this.set({ phase: 'connecting' });
    this.connection.open();
    this.loop = this.run().catch((e) => {
      this.set({ phase: 'error', lastError: String((e as Error).message) });
    });
  }

  /**
   * A unit saved by this tab before a reload: continued if its result may still be used (then the
   * backends measured before are reused, so the tab rejoins fast). Past its lease's deadline or
   * the disconnect grace period the unit went to other tabs too, but the coordinator still uses
   * this tab's result if it comes first while the round is open; it refuses it otherwise.
   */
  private async restore(): Promise<void> {
    const saved = await takeSavedUnit(this.opts.cache, this.opts.coordinatorUrl, this.opts.clientId, (m) =>
      this.log(m),
    );
    if (!saved) return;
    this.saved = saved;
    if (this.state.backends.length === 0 && saved.backends.some((b) => b.name === saved.chosenBackend)) {
      await tf.setBackend(saved.chosenBackend);
      this.set({ backends: saved.backends, chosenBackend: saved.chosenBackend });
    }
  }

  /**
   * Keeps the unit in progress in the cache, so a reload continues it. Saves and clears run one
   * after another in the order asked (savedUnit), so the unit's loop need not wait for them.
   */
  private keep(unit: WorkUnit, checkpoint: UnitCheckpoint | null, backend: BackendName): Promise<void> {
    const saved: SavedUnit = {
      coordinatorUrl: this.coordinatorUrl,
      unit,
      backends: this.state.backends,
      chosenBackend: this.state.chosenBackend ?? backend,
      checkpoint,
      clientId: this.opts.clientId,
      savedAt: Date.now(),
    };
    return this.savedUnit(() => saveUnit(this.opts.cache, saved), 'save the unit in progress');
  }

  /**
   * Runs a write of the saved unit after the ones asked before it. Each is an IndexedDB
   * transaction of tens of milliseconds on a busy machine; awaited on the unit's path, three of
   * them a unit kept the tab from training for a tenth of its time.
   */
  private savedUnit(write: () => Promise<unknown>, what: string): Promise<void> {
    const next = this.savingUnit.then(write).then(
      () => undefined,
      (e) => this.log(`could not ${what}: ${(e as Error).message}`),
    );
    this.savingUnit = next;
    return next;
  }

  /**
   * Runs the kernel correctness suite on this device (a kernel that fails is routed to TF.js
   * here) and watches for device loss: a lost GPU marks webgpu unavailable, and the unit in
   * training is retried on the next backend under the same lease. The conv and pooling suites
   * wait for a model that uses them (prepareModel): their shader compiles made every webgpu
   * tab's start-up check tens of seconds longer on a CPU adapter.
   */
  private async prepareWebGPU(): Promise<void> {
    try {
      await tf.setBackend('webgpu');
      const results = await verifyKernels({ quick: true, except: CONV_OPS });
      const failed = results.filter((r) => !r.ok).length;
      this.log(`webgpu kernels verified: ${results.length - failed} checks passed, ${failed} failed`);
      watchDeviceLoss((reason) => {
        this.log(`webgpu ${reason}; falling back`);
        this.set({
          backends: this.state.backends.map((b) =>
            b.name === 'webgpu' ? { ...b, available: false, error: reason } : b,
          ),
        });
      });
    } catch (e) {
      this.log(`webgpu kernel verification failed: ${(e as Error).message}`);
    }
  }

  /** Before a conv or pooling model first trains on webgpu: those kernels' suites (once per device). */
  private async prepareModel(unit: WorkUnit, backend: BackendName): Promise<void> {
    if (backend !== 'webgpu' || !usesConvKernels(unit.model) || !needsVerification(CONV_OPS)) return;
    try {
      const results = await verifyKernels({ quick: true, ops: CONV_OPS });
      const failed = results.filter((r) => !r.ok).length;
      this.log(`webgpu conv kernels verified: ${results.length - failed} checks passed, ${failed} failed`);
    } catch (e) {
      this.log(`webgpu conv kernel verification failed: ${(e as Error).message}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.connection.joined;
      if (!this.running) break;
      if (this.saved) {
        const { unit, checkpoint } = this.saved;
        this.saved = null;
        const late = unit.deadline < Date.now() ? ' (past its deadline: used if it still can be)' : '';
        this.log(
          `resuming unit ${unit.unitId} at step ${checkpoint?.step ?? 0} of ${unit.localSteps}${late}`,
        );
        await this.work(unit, checkpoint, true);
        continue;
      }
      // The request sent with the last update (sendAndAsk), or a new one.
      const asked = this.asked ?? requestWork(this.connection, this.endpoints);
      this.asked = null;
      const step = await this.unlessStopped(asked);
      if (!step) break;
      switch (step.kind) {
        case 'retry':
          continue; // timed out: ask again once joined
        case 'refused':
          this.set({ lastError: step.error });
          await this.sleep(step.ms);
          continue;
        case 'move':
          this.connection.switchTo(step.url);
          continue;
        case 'wait':
          this.set({ phase: 'waiting', unitProgress: 0 });
          await this.sleep(step.ms);
          continue;
        case 'train':
          if (this.idleSince !== null) this.timing.waitMs += performance.now() - this.idleSince;
          await this.work(step.unit);
      }
    }
    // Stopped after an update went with a request: a unit that answers it is given back.
    const asked = this.asked;
    this.asked = null;
    if (asked) void asked.then((step) => this.giveBack(step));
  }

  /**
   * Sends the update and asks for the next unit at once, without waiting for the answer: the
   * request is held until a unit opens (leasing.ts), so when this update is the round's last the
   * next round's unit comes as the round opens, not after the acknowledgement and a second trip.
   * A refused update gives back whatever the request brings: record() backs off first.
   */
  private async sendAndAsk(send: SubmitFn): Promise<Result<UpdateAck>> {
    const sent = send();
    if (this.running) this.asked = requestWork(this.connection, this.endpoints);
    const ack = await sent;
    const asked = this.asked;
    if (!ack.ok && asked) {
      this.asked = null;
      void asked.then((step) => this.giveBack(step));
    }
    return ack;
  }

  /**
   * The answer to a request for work, or null once the runtime stops or pauses: the coordinator
   * may hold a request for seconds (leasing.ts), and a pause must not wait for it. A unit that
   * comes after the stop is given back at once.
   */
  private unlessStopped(asked: Promise<NextStep>): Promise<NextStep | null> {
    if (!this.running) {
      void asked.then((step) => this.giveBack(step));
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      let stopped = false;
      const stop = () => {
        stopped = true;
        resolve(null);
      };
      this.onStop.add(stop);
      void asked.then((step) => {
        this.onStop.delete(stop);
        if (stopped) void this.giveBack(step);
        else resolve(step);
      });
    });
  }

  private async giveBack(step: NextStep): Promise<null> {
    if (step.kind === 'train') await this.connection.release(step.unit.leaseId);
    return null;
  }

  /** `resumed`: continued after a reload, so a refusal may only mean the tab came back too late. */
  private async work(unit: WorkUnit, from: UnitCheckpoint | null = null, resumed = false): Promise<void> {
    await this.observing;
    const plan = await this.training.plan(unit);
    if (!plan) {
      this.log(`no backend here can train job ${unit.jobId}; giving the unit back`);
      await this.connection.release(unit.leaseId);
      await this.sleep(10_000);
      return;
    }
    const begun = performance.now();
    try {
      const result = await this.training.train(unit, plan, from);
      const trained = performance.now();
      this.set({ phase: 'submitting' });
      // Submitted or refused, the unit is over: a reload from here on does not redo it.
      void this.savedUnit(() => clearSavedUnit(this.opts.cache), 'clear the finished unit');
      const behaviour = this.opts.behaviour;
      const delta = behaviour?.tamper ? await behaviour.tamper(result.delta, unit) : result.delta;
      const send = await this.submitter.prepare(unit, result, delta, plan.backend);
      const ack = behaviour?.submit
        ? await behaviour.submit({
            unit,
            trainMs: result.trainMs,
            send,
            vanish: () => this.vanish(),
            roundClosed: () => this.roundClosed(unit),
          })
        : await this.sendAndAsk(send);
      const answered = performance.now();
      const samplesPerSec = result.numSamples / (result.trainMs / 1000);
      await this.record(unit, ack, result.numSamples, samplesPerSec, resumed);
      this.connection.progress({
        samplesPerSec,
        loss: this.state.loss,
        unitsDone: this.state.unitsDone,
        // The scores in use (the job's model once measured) and the choice, for the console;
        // errors cut to the schema's length, or the coordinator would drop the whole message.
        backends: this.state.backends
          .slice(0, 8)
          .map((b) => (b.error ? { ...b, error: b.error.slice(0, 500) } : b)),
        ...(this.state.chosenBackend ? { chosenBackend: this.state.chosenBackend } : {}),
      });
      if (!plan.measured && this.running) await this.training.measure(unit, plan.archKey);
      // Off the path to the next unit; the next plan waits for it (it decides that unit's backend).
      this.observing = this.training
        .observe(unit, plan, samplesPerSec)
        .catch((e) => this.log(`could not record the unit's speed: ${(e as Error).message}`));
      this.timed(begun, trained, answered, result.trainMs);
    } catch (e) {
      // A closed tab releases nothing and keeps its saved unit for the reload.
      if (this.abandoned) return;
      await this.savedUnit(() => clearSavedUnit(this.opts.cache), 'clear the failed unit');
      if (e instanceof Aborted) {
        await this.connection.release(unit.leaseId);
        return;
      }
      this.log(`unit ${unit.unitId} failed: ${(e as Error).message}`);
      this.set({ lastError: String((e as Error).message) });
      await this.connection.release(unit.leaseId);
      await this.sleep(1000);
    }
  }

  /** Adds a finished unit's phases to state.timing; the wait for the next unit starts now. */
  private timed(begun: number, trained: number, answered: number, trainMs: number): void {
    const t = this.timing;
    const now = performance.now();
    const p = this.training.lastPhases;
    t.units++;
    t.fetchMs += p.fetchMs;
    t.weightsMs += p.weightsMs;
    t.shardsMs += p.shardsMs;
    t.trainMs += trainMs;
    // What else the unit took before its loop ended: plan, backend switch, setup.
    t.setupMs += Math.max(0, trained - begun - p.fetchMs - trainMs);
    t.submitMs += answered - trained;
    t.afterMs += now - answered;
    this.idleSince = now;
    this.set({ timing: { ...t } });
  }

  /** What the coordinator said about an update, in the state (and the lease given back if refused). */
  private async record(
    unit: WorkUnit,
    ack: Result<UpdateAck>,
    numSamples: number,
    samplesPerSec: number,
    resumed: boolean,
  ): Promise<void> {
    if (ack.ok) {
      this.set({
        unitsDone: this.state.unitsDone + 1,
        samplesDone: this.state.samplesDone + numSamples,
        samplesPerSec,
        unitProgress: 1,
        lastError: null,
      });
    } else if (resumed && TOO_LATE.has(ack.error.code)) {
      // Back too late (the round closed, or another tab delivered the unit): not an error;
      // the lease is gone already, and the next unit is a fresh one.
      this.log(`resumed unit ${unit.unitId} came back too late (${ack.error.code}); moving on`);
      this.set({ samplesPerSec, unitProgress: 0 });
    } else {
      this.log(`update refused: ${ack.error.code} ${ack.error.message}`);
      this.set({ samplesPerSec, lastError: `update refused: ${ack.error.code}` });
      // Give the unit back at once rather than at the lease's deadline (a no-op if it is gone),
      // then step back for a moment, not woken by unit:available: asking again at once would
      // take the unit straight back and crowd out the tabs whose updates are accepted.
      if (this.running) {
        await this.connection.release(unit.leaseId);
        await new Promise((r) => setTimeout(r, REFUSED_BACKOFF_MS));
      }
    }
  }

  private endWaits(): void {
    for (const stopped of [...this.onStop]) stopped();
    this.onStop.clear();
  }

  private vanish(): void {
    this.running = false;
    this.endWaits();
    this.connection.disconnect();
    this.wake?.();
  }

  async abandon(): Promise<void> {
    this.abandoned = true;
    this.vanish();
    this.connection.releaseWaiters();
    await this.loop;
    this.connection.close();
    this.set({ phase: 'idle', connected: false, unitProgress: 0 });
  }

  /**
   * A version is announced at its commit and again when its metrics land: the second replaces
   * the first. At the commit, the tab fetches the new weights while it waits for its next unit,
   * which will name them (the job it works on only).
   */
  private heardVersion(event: VersionEvent): void {
    const others = this.state.versions.filter((v) => v.versionId !== event.versionId);
    this.set({ versions: [...others, event].slice(-500) });
    if (!event.hash || event.evaluated || !this.running || this.state.currentJobId !== event.jobId) return;
    // Held in memory for the next unit (a failed download is tried again by the unit).
    this.fetcher.prefetch('weights', [event.hash], event.jobId);
  }

  private roundClosed(unit: WorkUnit): Promise<VersionEvent> {
    const closed = (s: ContributorState) =>
      s.versions.find((v) => v.jobId === unit.jobId && v.round >= unit.round);
    return new Promise((resolve, reject) => {
      // A paused job closes no round: stopping must not wait for one.
      const stopped = () => {
        queueMicrotask(() => stop());
        reject(new Aborted());
      };
      this.onStop.add(stopped);
      const stop = this.subscribe((s) => {
        const v = closed(s);
        if (v) {
          queueMicrotask(() => stop());
          this.onStop.delete(stopped);
          resolve(v);
        }
      });
    });
  }

  async pause(): Promise<void> {
    this.running = false;
    this.endWaits();
    this.wake?.();
    this.connection.releaseWaiters();
    await this.loop;
    this.set({ phase: 'paused', unitProgress: 0 });
  }

  async stop(): Promise<void> {
    await this.pause();
    this.connection.close();
    this.trainer.dispose();
    this.set({ phase: 'idle', connected: false });
  }
}

export type { Ack, BackendScore };
