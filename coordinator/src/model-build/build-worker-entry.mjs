// The build worker's entry point. Worker threads do not inherit the TypeScript loader that
// runs the coordinator (`node --import tsx`, or vitest's), and on Node 20 `--import tsx` in a
// worker's execArgv does not reach its entry either; tsx's tsImport loads the TypeScript file.
// biome-ignore lint/correctness/noUndeclaredDependencies: tsx is the root's, which runs the coordinator (`npm start`).
import { tsImport } from 'tsx/esm/api';

await tsImport('./build-worker.ts', import.meta.url);
