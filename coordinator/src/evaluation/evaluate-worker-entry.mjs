// The evaluation thread's entry point: worker threads do not inherit the TypeScript loader
// that runs the coordinator (see model-build/build-worker-entry.mjs), so tsx loads the file.
import { tsImport } from 'tsx/esm/api';

await tsImport('./evaluate-worker.ts', import.meta.url);
