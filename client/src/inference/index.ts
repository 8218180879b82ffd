/**
 * GridTab's embeddable inference SDK: `loadModel('fashion', { coordinator, alias })`. Needs
 * only @tensorflow/tfjs (and socket.io-client, loaded on demand for live updates and
 * telemetry); no Svelte, no coordinator code. Register extra TF.js backends (webgpu, wasm) by
 * importing them in the app; the SDK uses whatever is registered.
 */
export type { BackendPreference } from './backend.ts';
export { InferenceError, type InferenceErrorCode } from './errors.ts';
export type { GridTabMeta, VersionInfo } from './loader.ts';
export {
  type Classification,
  GridTabModel,
  type ImageInput,
  type LoadOptions,
  loadModel,
  type ModelInput,
  type NamedPrediction,
} from './model.ts';
export { IdbModelCache, MemoryModelCache, type ModelCache } from './store.ts';
