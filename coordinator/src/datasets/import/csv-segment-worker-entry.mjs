// The entry of a thread that parses one segment of a CSV file (csv-segments.ts). Worker threads
// do not inherit the TypeScript loader that runs the coordinator (see
// model-build/build-worker-entry.mjs), so tsx loads the file.
import { tsImport } from 'tsx/esm/api';

await tsImport('./csv-segment-worker.ts', import.meta.url);
