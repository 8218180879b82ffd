/**
 * Injectable behaviour of a contributor, for the fault and attack harness (./sim): the same
 * runtime loop runs, but the trained delta can be rewritten before it is encoded (attacks) and
 * the submission can be delayed, repeated or never made (faults). A browser tab never sets it.
 */
import type { Result, UpdateAck, UpdateMeta, VersionEvent, WorkUnit } from '@gridtab/shared';

export interface SubmitContext {
  unit: WorkUnit;
  /** How long the unit's training took here, milliseconds. */
  trainMs: number;
  /** Sends the update as encoded; `meta` overrides fields. May be called more than once. */
  send(meta?: Partial<UpdateMeta>): Promise<Result<UpdateAck>>;
  /** Disappears like a closed tab: stops taking units and drops the socket, lease still held. */
  vanish(): void;
  /** Resolves once the coordinator announces a version of this unit's job at its round or later. */
  roundClosed(): Promise<VersionEvent>;
}

export interface Behaviour {
  /** Rewrites the trained delta before it is encoded (attacks); may wait for colluders. */
  tamper?(delta: Float32Array, unit: WorkUnit): Float32Array | Promise<Float32Array>;
  /** A class permutation the unit trains with, label l read as map[l] (data poisoning). */
  relabel?(unit: WorkUnit): Int32Array | undefined;
  /** Replaces `send()` (faults); the result is what the runtime records as the answer. */
  submit?(ctx: SubmitContext): Promise<Result<UpdateAck>>;
}
