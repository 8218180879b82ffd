// The build worker's entry point. Worker threads do not inherit the TypeScript loader that
// runs the coordinator (`node --import tsx`, or vitest's), and on Node 20 `--import tsx` in a
// worker's execArgv does not reach its entry either; tsx's tsImport loads the TypeScript file.
import { tsImport } from 'tsx/esm/api';

await tsImport('./build-worker.ts', import.meta.url);
