/**
 * Entry points of the contributor runtime. `createContributor` takes every dependency;
 * `createBrowserContributor` wires the browser ones (IndexedDB cache, a per-tab identity kept in
 * sessionStorage so tabs of one profile are distinct contributors and a reload is the same one,
 * wasm binaries served by the coordinator); `createNodeContributor` the Node ones.
 */
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { registerWasmConvKernels } from '@gridtab/kernels/wasm-conv';
import { randomId } from '@gridtab/shared';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { IdbCache, MemoryCache } from './cache.ts';
import { type ContributorOptions, createContributor } from './contributor.ts';
import type { Contributor } from './types.ts';

// TF.js's wasm backend cannot train a convolution without these (it has no Conv2DBackpropFilter).
registerWasmConvKernels();

export { benchmarkBackends, chooseBackend, missingTrainingKernels } from './backends.ts';
export { type BlobCache, IdbCache, MemoryCache } from './cache.ts';
export { type ContributorOptions, createContributor } from './contributor.ts';
export type { Contributor, ContributorPhase, ContributorState } from './types.ts';

/** Where the coordinator serves TF.js's wasm binaries. */
export const WASM_PATH = '/vendor/tfjs-wasm/';

function tabIdentity(): string {
  const key = 'gridtab.clientId';
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = `tab_${randomId()}`;
    sessionStorage.setItem(key, id);
  }
  return id;
}

export async function createBrowserContributor(options: {
  coordinatorUrl: string;
  log?: (msg: string) => void;
}): Promise<Contributor> {
  setWasmPaths(new URL(WASM_PATH, options.coordinatorUrl).href);
  return createContributor({
    coordinatorUrl: options.coordinatorUrl,
    cache: await IdbCache.open(),
    clientId: tabIdentity(),
    kind: 'browser',
    userAgent: navigator.userAgent,
    log: options.log ?? ((m) => console.info(`[gridtab] ${m}`)),
  });
}

export function createNodeContributor(
  options: Pick<ContributorOptions, 'coordinatorUrl'> & Partial<ContributorOptions>,
): Contributor {
  return createContributor({
    cache: new MemoryCache(),
    clientId: `node_${randomId()}`,
    kind: 'node',
    backends: ['wasm', 'cpu'],
    ...options,
  });
}
