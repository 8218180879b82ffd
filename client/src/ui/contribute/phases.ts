/**
 * What each runtime phase means to a contributor, and which phases count as "running" (the
 * runtime is working or about to: pause is offered, start is not).
 */
import type { ContributorPhase } from '../../runtime/types.ts';

export const PHASE_HINTS: Record<ContributorPhase, string> = {
  idle: 'Press start to measure your device and begin contributing.',
  benchmarking: 'Measuring which backend trains fastest on this device…',
  connecting: 'Connecting to the coordinator…',
  waiting: 'Joined; waiting for the next round to open.',
  fetching: 'Downloading data shards and model weights (cached after the first time).',
  training: 'Training on a work unit.',
  submitting: 'Sending the model update to the coordinator.',
  paused: 'Paused. Nothing runs until you press start again.',
  error: 'Stopped by an error.',
};

const RUNNING: ReadonlySet<ContributorPhase> = new Set([
  'benchmarking',
  'connecting',
  'waiting',
  'fetching',
  'training',
  'submitting',
]);

export const isRunning = (phase: ContributorPhase): boolean => RUNNING.has(phase);
