/**
 * One import for `npm run bench:datasets`, in a process of its own so its RSS can be sampled:
 * imports the file into a fresh blob store and prints the seconds it took, and this process's
 * RSS just before the import began. It loads only the importer: the bench itself loads TF.js and
 * a whole coordinator, which added about 110 MB to the peak measured before (374 MB then).
 * `--format csv-parse` runs the CSV baseline instead (csv-baseline.ts), in the same kind of lean
 * process as the import.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importFile } from '../coordinator/src/datasets/import/index.ts';
import { FileBlobStore } from '../coordinator/src/storage/blob-store.ts';
import { drainCsv } from './csv-baseline.ts';

const { values } = parseArgs({
  options: { format: { type: 'string' }, path: { type: 'string' }, threads: { type: 'string' } },
});
const format = values.format as 'csv' | 'images' | 'csv-parse';
if (format === 'csv-parse') {
  // The baseline under the same conditions as the import: a lean process.
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
  const t = performance.now();
  const cpu = process.cpuUsage();
  const rows = (await drainCsv(values.path!)) - 1;
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - t) / 1000;
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(JSON.stringify({ seconds, cpuSeconds, rows, hash: '', rssBeforeMb }));
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'gridtab-bench-child-'));
const blobs = await FileBlobStore.open(dir);
const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
const t = performance.now();
const cpu = process.cpuUsage();
const v = await importFile(
  {
    path: values.path!,
    fileName: values.path!,
    format,
    options: format === 'csv' ? { missing: 'impute' } : {},
  },
  { blobs, ...(values.threads && { parallelism: { threads: Number(values.threads) } }) },
);
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    seconds: (performance.now() - t) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    rows: v.numTrain + v.numTest,
    hash: v.hash,
    rssBeforeMb,
  }),
);
rmSync(dir, { recursive: true, force: true });
