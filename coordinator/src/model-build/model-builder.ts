/**
 * Where TF.js builds models from specs that came from outside. Building allocates and
 * initialises every weight; for a 4M-parameter spec that holds a thread for a second or more,
 * and on the coordinator's event loop that second is a second without health checks,
 * heartbeats or submits. So the coordinator builds in a small pool of worker threads
 * (build-pool.ts); the in-thread builder is for tests and tools that have no loop to protect.
 */
import type { BuildResults, BuildTask } from './build-tasks.ts';
import { runBuildTask } from './build-tasks.ts';

export interface ModelBuilder {
  run<K extends BuildTask['kind']>(task: Extract<BuildTask, { kind: K }>): Promise<BuildResults[K]>;
  close(): Promise<void>;
}

export const inThreadBuilder: ModelBuilder = {
  run: (task) => runBuildTask(task),
  async close() {},
};

export type { BuildResults, BuildTask, Checked, Imported, Topology, WeightSpecs } from './build-tasks.ts';
