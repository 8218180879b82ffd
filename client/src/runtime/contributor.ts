/**
 * The contributor loop: join -> request a unit -> fetch shards and weights -> train -> submit.
 * Works the same in a browser tab and in Node; what differs (socket factory, cache, identity,
 * backends to try) is passed in. Reconnects are socket.io's: on every (re)connect the runtime
 * joins again and carries on with the unit it holds. Given several coordinator URLs (processes
 * sharing a store), it moves to the next when reconnecting to its own keeps failing, or to the
 * one a redirect names; a unit in progress is submitted there, and dropped if refused.
 */

import { verifyKernels, watchDeviceLoss } from '@gridtab/kernels';
import {
  type Ack,
  type BackendName,
  type BackendScore,
  type ChunkAck,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  Endpoints,
  type JoinAck,
  MAX_SOCKET_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type Result,
  randomId,
  sha256Hex,
  type UnitOffer,
  type UpdateAck,
  type UpdateMeta,
  type VersionEvent,
  type WorkUnit,
} from '@gridtab/shared';
import { type CodecState, codecFor } from '@gridtab/shared/codecs';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import { io, type Socket } from 'socket.io-client';
import { benchmarkBackends, CANDIDATES, chooseBackend } from './backends.ts';
import type { Behaviour } from './behaviour.ts';
import type { BlobCache } from './cache.ts';
import { BlobFetcher } from './fetcher.ts';
import { architectureKey, ModelScores } from './model-bench.ts';
import {
  clearSavedUnit,
  loadCodecState,
  loadSavedUnit,
  resumable,
  type SavedUnit,
  saveCodecState,
  saveUnit,
  TOO_LATE,
} from './resume.ts';
import { Aborted, Trainer, type UnitCheckpoint } from './trainer.ts';
import type { Contributor, ContributorState } from './types.ts';

export interface ContributorOptions {
  /** One coordinator URL, or several (a list, or comma-separated) sharing one store. */
  coordinatorUrl: string | readonly string[];
  cache: BlobCache;
  clientId: string;
  kind: 'browser' | 'node';
  backends?: BackendName[];
  /** Milliseconds each backend trains in the start-up benchmark. */
  benchmarkMs?: number;
  userAgent?: string;
  fetchFn?: typeof fetch;
  log?: (msg: string) => void;
  /** Faults and attacks for the simulation harness; unset in real tabs. */
  behaviour?: Behaviour;
  /** How often the unit in progress is checkpointed to the cache (default 2000 ms). */
  checkpointEveryMs?: number;
}

type ClientSocket = Socket<ContributorServerEvents, ContributorClientEvents>;

const ACK_TIMEOUT_MS = 60_000;
const REFUSED_BACKOFF_MS = 1000;
/** With several coordinators: failed reconnects to the current one before moving on. */
const RECONNECTS_BEFORE_FAILOVER = 2;

/** An acknowledgement that cannot come: the socket went away while waiting for it. */
class Disconnected extends Error {
  constructor() {
    super('the connection to the coordinator was lost');
  }
}

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
  private readonly fetcher: BlobFetcher;
  private readonly trainer = new Trainer();
  private socket: ClientSocket | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private joined: Promise<void> | null = null;
  /** Ends a wait for (re)join: on join, and on pause so a disconnected runtime can stop. */
  private resolveJoined: () => void = () => {};
  /** A unit saved before a reload, to continue once joined. */
  private saved: SavedUnit | null = null;
  private readonly modelScores: ModelScores;
  /** The start-up micro-benchmark: the first guess for a model not measured yet. */
  private startupScores: BackendScore[] | null = null;
  /** Set by abandon(): nothing is released or cleared, as when a tab is closed. */
  private abandoned = false;
  /** The coordinator's socket message limit, from the join answer. */
  private maxMessageBytes = MAX_SOCKET_MESSAGE_BYTES;
  /** Waits that only a version event would end (roundClosed), ended instead when the runtime stops. */
  private readonly onStop = new Set<() => void>();
  /** Per job: the codec's memory across units (top-k's error-feedback residual). */
  private readonly codecStates = new Map<string, CodecState>();

  private readonly endpoints: Endpoints;

  constructor(private readonly opts: ContributorOptions) {
    this.endpoints = new Endpoints(opts.coordinatorUrl);
    this.fetcher = new BlobFetcher(() => this.endpoints.current, opts.cache, opts.fetchFn);
    this.modelScores = new ModelScores(opts.cache);
  }

  /** The coordinator this runtime talks to now. */
  get coordinatorUrl(): string {
    return this.endpoints.current;
  }

  /**
   * A new wait for the next join. Whoever still waits on the previous one (a submit that lost its
   * socket, then the runtime moved to another coordinator) is released by the next join too.
   */
  private resetJoined(): void {
    const previous = this.resolveJoined;
    this.joined = new Promise((r) => {
      this.resolveJoined = () => {
        previous();
        r();
      };
    });
  }

  /** Leaves the current coordinator for `url` (or the next in the list) and joins there. */
  private switchTo(url?: string): void {
    const from = this.endpoints.current;
    if (url === undefined) this.endpoints.next();
    else if (!this.endpoints.moveTo(url)) return;
    if (this.endpoints.current === from) return;
    this.log(`moving from ${from} to ${this.endpoints.current}`);
    const old = this.socket;
    this.socket = null;
    if (old) {
      old.disconnect(); // fires 'disconnect': pending acknowledgements give up, joined resets
      old.removeAllListeners();
    }
    if (this.running) this.connect();
  }

  get fetchStats() {
    return this.fetcher.stats;
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
      const scores = await benchmarkBackends(this.opts.backends ?? CANDIDATES, this.opts.benchmarkMs);
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
    this.connect();
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
    const saved = await loadSavedUnit(this.opts.cache).catch(() => null);
    if (!saved) return;
    const verdict = resumable(saved, this.opts.coordinatorUrl, this.opts.clientId, Date.now());
    if (verdict !== 'yes') {
      this.log(`saved unit ${saved.unit.unitId} not resumed (${verdict})`);
      // Another tab's unit (tabs of one origin share the cache) is left to that tab.
      if (verdict !== 'other-tab') await clearSavedUnit(this.opts.cache);
      return;
    }
    this.saved = saved;
    if (this.state.backends.length === 0 && saved.backends.some((b) => b.name === saved.chosenBackend)) {
      await tf.setBackend(saved.chosenBackend);
      this.set({ backends: saved.backends, chosenBackend: saved.chosenBackend });
    }
  }

  private connect(): void {
    if (this.socket) {
      this.socket.connect();
      return;
    }
    const socket: ClientSocket = io(`${this.endpoints.current}${CONTRIBUTOR_NAMESPACE}`, {
      transports: ['websocket'],
      reconnectionDelayMax: 3000,
      // A fresh manager per URL: a moved runtime must not share the old coordinator's.
      forceNew: true,
      ...(this.endpoints.several ? { reconnectionAttempts: RECONNECTS_BEFORE_FAILOVER } : {}),
    });
    // Reconnecting to this coordinator keeps failing: move on to the next one.
    socket.io.on('reconnect_failed', () => {
      if (this.socket === socket) this.switchTo();
    });
    this.socket = socket;
    this.resetJoined();
    socket.on('connect', async () => {
      this.set({ connected: true, phase: this.state.phase === 'connecting' ? 'waiting' : this.state.phase });
      const res = await this.ask<JoinAck>('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId: this.opts.clientId,
        backends: this.state.backends,
        chosenBackend: this.state.chosenBackend ?? 'cpu',
        userAgent: this.opts.userAgent?.slice(0, 500),
        kind: this.opts.kind,
      }).catch((e: Error) => ({
        ok: false as const,
        error: { code: 'INTERNAL' as const, message: e.message },
      }));
      if (!res.ok) {
        this.set({ lastError: `join refused: ${res.error.code} ${res.error.message}`, phase: 'error' });
        return;
      }
      this.maxMessageBytes = res.data.maxMessageBytes ?? MAX_SOCKET_MESSAGE_BYTES;
      this.set({ contributorId: res.data.contributorId, lastError: null });
      this.resolveJoined();
      this.wake?.();
    });
    socket.on('disconnect', () => {
      this.set({ connected: false });
      this.resetJoined();
    });
    socket.on('unit:available', () => this.wake?.());
    socket.on('job:version', (event) => {
      this.set({ versions: [...this.state.versions, event].slice(-500) });
    });
  }

  /**
   * Runs the kernel correctness suite on this device (a kernel that fails is routed to TF.js
   * here) and watches for device loss: a lost GPU marks webgpu unavailable, and the unit in
   * training is retried on the next backend under the same lease.
   */
  private async prepareWebGPU(): Promise<void> {
    try {
      await tf.setBackend('webgpu');
      const results = await verifyKernels({ quick: true });
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

  private async ask<T>(event: keyof ContributorClientEvents, ...args: unknown[]): Promise<Result<T>> {
    const socket = this.socket;
    if (!socket) throw new Disconnected();
    // emitWithAck's typing does not follow our Ack-last signatures; the shapes are checked here.
    const emit = socket.timeout(ACK_TIMEOUT_MS).emitWithAck as unknown as (
      ev: string,
      ...a: unknown[]
    ) => Promise<Result<T>>;
    // A lost connection loses the acknowledgement: stop waiting for it then, not at the timeout.
    let gone = () => {};
    return new Promise<Result<T>>((resolve, reject) => {
      gone = () => reject(new Disconnected());
      socket.once('disconnect', gone);
      emit.call(socket.timeout(ACK_TIMEOUT_MS), event, ...args).then(resolve, reject);
    }).finally(() => socket.off('disconnect', gone));
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
      await this.joined;
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
      let offer: Result<UnitOffer>;
      try {
        offer = await this.ask<UnitOffer>('unit:request', {});
      } catch {
        continue; // timed out: the socket reconnects and we ask again
      }
      if (!offer.ok) {
        this.set({ lastError: `${offer.error.code}: ${offer.error.message}` });
        await this.sleep(2000);
        continue;
      }
      if (!offer.data.unit) {
        // Another coordinator runs the work: go there if it is one of ours.
        const { redirect } = offer.data;
        if (redirect && this.endpoints.urls.includes(redirect) && redirect !== this.endpoints.current) {
          this.switchTo(redirect);
          continue;
        }
        this.set({ phase: 'waiting', unitProgress: 0 });
        await this.sleep(offer.data.retryMs);
        continue;
      }
      await this.work(offer.data.unit);
    }
  }

  /** `resumed`: continued after a reload, so a refusal may only mean the tab came back too late. */
  private async work(unit: WorkUnit, from: UnitCheckpoint | null = null, resumed = false): Promise<void> {
    // The job's own model decides, once measured; until then the start-up guess does, so the
    // first unit is not delayed, and the measurement runs after it (a tab has one TF.js engine:
    // timing another backend cannot overlap training), switching for the next unit.
    this.startupScores ??= this.state.backends;
    const archKey = await architectureKey(unit.model, unit.batchSize);
    const measured = await this.modelScores.get(archKey);
    if (measured) this.set({ backends: measured });
    const backend = chooseBackend(measured ?? this.startupScores, unit.model);
    if (!backend) {
      this.log(`no backend here can train job ${unit.jobId}; giving the unit back`);
      await this.ask('unit:release', { leaseId: unit.leaseId }).catch(() => {});
      await this.sleep(10_000);
      return;
    }
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    this.set({ phase: 'fetching', currentJobId: unit.jobId, unitProgress: 0, chosenBackend: backend });
    try {
      const [base, ...shards] = await Promise.all([
        this.fetcher.get('weights', unit.baseWeightsHash, unit.jobId),
        ...unit.shardHashes.map((h) => this.fetcher.get('shard', h, unit.jobId)),
      ]);
      this.set({ phase: 'training' });
      const keep = (checkpoint: UnitCheckpoint | null) =>
        saveUnit(this.opts.cache, {
          coordinatorUrl: this.coordinatorUrl,
          unit,
          backends: this.state.backends,
          chosenBackend: this.state.chosenBackend ?? backend,
          checkpoint,
          clientId: this.opts.clientId,
          savedAt: Date.now(),
        }).catch((e) => this.log(`could not save the unit in progress: ${(e as Error).message}`));
      if (!from) await keep(null);
      let latest = from;
      const train = () =>
        this.trainer.trainUnit(
          unit,
          bytesToFloat32(base),
          shards,
          (done, total, loss) => this.set({ unitProgress: done / total, ...(loss !== null ? { loss } : {}) }),
          () => !this.running,
          {
            labelMap: this.opts.behaviour?.relabel?.(unit),
            from: latest,
            checkpoint: async (cp) => {
              latest = cp;
              await keep(cp);
            },
            checkpointEveryMs: this.opts.checkpointEveryMs,
          },
        );
      let result: Awaited<ReturnType<typeof train>>;
      try {
        result = await train();
      } catch (e) {
        // A lost GPU device: same unit, same lease, next backend that can train this model.
        const next = chooseBackend(this.state.backends, unit.model);
        if (e instanceof Aborted || !next || next === backend) throw e;
        await this.modelScores.forget(archKey); // a lost device: measure again next time
        this.log(`training on ${backend} failed (${(e as Error).message}); retrying the unit on ${next}`);
        await tf.setBackend(next);
        this.set({ chosenBackend: next });
        result = await train();
      }
      this.set({ phase: 'submitting' });
      // Submitted or refused, the unit is over: a reload from here on does not redo it.
      await clearSavedUnit(this.opts.cache);
      const behaviour = this.opts.behaviour;
      const delta = behaviour?.tamper ? await behaviour.tamper(result.delta, unit) : result.delta;
      const payload = await this.encode(unit, delta);
      const meta: UpdateMeta = {
        leaseId: unit.leaseId,
        unitId: unit.unitId,
        baseVersionId: unit.baseVersionId,
        numSamples: result.numSamples,
        codec: unit.codec.name,
        checksum: await sha256Hex(payload),
        loss: result.meanLoss,
        trainMs: Math.round(result.trainMs),
        backend,
      };
      const send = async (override: Partial<UpdateMeta> = {}): Promise<Result<UpdateAck>> => {
        for (;;) {
          // A reconnect (or a move to another coordinator) in the middle of training: submit
          // once joined again. A new owner that cannot honour the lease refuses, and the unit
          // is dropped below.
          await this.joined;
          try {
            return await this.submitUpdate({ ...meta, ...override }, payload);
          } catch (e) {
            if (!(e instanceof Disconnected) || !this.running) throw e;
            this.log(`connection lost while submitting ${unit.unitId}; submitting again once joined`);
          }
        }
      };
      const ack = behaviour?.submit
        ? await behaviour.submit({
            unit,
            trainMs: result.trainMs,
            send,
            vanish: () => this.vanish(),
            roundClosed: () => this.roundClosed(unit),
          })
        : await send();
      const samplesPerSec = result.numSamples / (result.trainMs / 1000);
      if (ack.ok) {
        this.set({
          unitsDone: this.state.unitsDone + 1,
          samplesDone: this.state.samplesDone + result.numSamples,
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
          await this.ask('unit:release', { leaseId: unit.leaseId }).catch(() => {});
          await new Promise((r) => setTimeout(r, REFUSED_BACKOFF_MS));
        }
      }
      this.socket?.emit('contributor:progress', {
        samplesPerSec,
        loss: this.state.loss,
        unitsDone: this.state.unitsDone,
      });
      if (!measured && this.running) await this.measureModel(unit, archKey);
    } catch (e) {
      // A closed tab releases nothing and keeps its saved unit for the reload.
      if (this.abandoned) return;
      await clearSavedUnit(this.opts.cache);
      if (e instanceof Aborted) {
        await this.ask('unit:release', { leaseId: unit.leaseId }).catch(() => {});
        return;
      }
      this.log(`unit ${unit.unitId} failed: ${(e as Error).message}`);
      this.set({ lastError: String((e as Error).message) });
      await this.ask('unit:release', { leaseId: unit.leaseId }).catch(() => {});
      await this.sleep(1000);
    }
  }

  /** Times the unit's model on every backend that started here; the next unit uses the result. */
  private async measureModel(unit: WorkUnit, archKey: string): Promise<void> {
    const phase = this.state.phase;
    this.set({ phase: 'benchmarking' });
    try {
      const started = (this.startupScores ?? this.state.backends)
        .filter((s) => s.available)
        .map((s) => s.name);
      const scores = await this.modelScores.measure(unit, archKey, started);
      const chosen = chooseBackend(scores, unit.model);
      this.set({ backends: scores, ...(chosen ? { chosenBackend: chosen } : {}) });
      this.log(
        `model ${archKey.slice(0, 8)}: ${scores.map((s) => `${s.name}=${s.samplesPerSec}`).join(' ')}; chose ${chosen}`,
      );
    } catch (e) {
      this.log(`could not measure the job's model: ${(e as Error).message}`);
    } finally {
      this.set({ phase });
    }
  }

  /**
   * Sends an update in one message, or, when it would not fit the coordinator's socket message
   * limit, as `unit:chunk` pieces (each acknowledged) followed by a submit naming the upload.
   */
  private async submitUpdate(meta: UpdateMeta, payload: Uint8Array): Promise<Result<UpdateAck>> {
    // Room for the event name, the header and socket.io's framing around the binary piece.
    const pieceBytes = Math.max(1024, Math.floor(this.maxMessageBytes * 0.9) - 4096);
    if (payload.byteLength <= pieceBytes) return this.ask<UpdateAck>('unit:submit', meta, payload);
    const uploadId = `up-${randomId()}`;
    const count = Math.ceil(payload.byteLength / pieceBytes);
    for (let index = 0; index < count; index++) {
      const piece = payload.subarray(index * pieceBytes, (index + 1) * pieceBytes);
      const header = { uploadId, index, count, totalBytes: payload.byteLength, sha256: meta.checksum };
      const res = await this.ask<ChunkAck>('unit:chunk', header, piece);
      if (!res.ok) return res;
    }
    return this.ask<UpdateAck>('unit:submit', { ...meta, uploadId }, new Uint8Array(0));
  }

  /**
   * Encodes a delta in the unit's codec. The codec state is per job and outlives units: top-k's
   * residual carries what was not sent into the next unit of the same job. The entries a refused
   * update carried are lost, as a refused fp32 delta is lost entirely.
   */
  private async encode(unit: WorkUnit, delta: Float32Array): Promise<Uint8Array> {
    let state = this.codecStates.get(unit.jobId);
    if (!state) {
      // After a reload the residual comes back from the cache.
      state = await loadCodecState(this.opts.cache, unit.jobId);
      this.codecStates.set(unit.jobId, state);
    }
    const payload = await codecFor(unit.codec).encode(delta, state);
    if (state.residual) await saveCodecState(this.opts.cache, unit.jobId, state);
    return payload;
  }

  private endWaits(): void {
    for (const stopped of [...this.onStop]) stopped();
    this.onStop.clear();
  }

  private vanish(): void {
    this.running = false;
    this.endWaits();
    this.socket?.disconnect();
    this.wake?.();
  }

  async abandon(): Promise<void> {
    this.abandoned = true;
    this.vanish();
    this.resolveJoined();
    await this.loop;
    this.socket = null;
    this.set({ phase: 'idle', connected: false, unitProgress: 0 });
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
    this.resolveJoined();
    await this.loop;
    this.set({ phase: 'paused', unitProgress: 0 });
  }

  async stop(): Promise<void> {
    await this.pause();
    this.socket?.disconnect();
    this.socket = null;
    this.trainer.dispose();
    this.set({ phase: 'idle', connected: false });
  }
}

export type { Ack, BackendScore };
