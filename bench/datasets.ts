/**
 * `npm run bench:datasets`: dataset import speed and memory. A CSV of --csv-mb MB (cars rows
 * repeated with noise) imported beside csv-parse alone on the same file; a zip of --images
 * Fashion-MNIST PNGs imported beside sharp decoding alone; the peak RSS of each import (run in
 * a child process whose /proc RSS is sampled); and the bytes a tab downloads for a version
 * that edits 1% of the CSV's rows (contiguous): the shards whose hash is new, against all, with
 * the missing-value policies drop and impute; and the time from upload to the first trained
 * unit (the CSV streamed to the HTTP route of an in-process coordinator, a regression job on
 * the new version, one Node contributor, until its first accepted update). Wall and CPU
 * seconds both: on a shared machine the CPU ratio is the fair one (the load average is recorded).
 * --quick: 20 MB and 2,000 images. Writes bench/results/datasets.json. --csv-only: the CSV
 * import beside csv-parse alone and no more (bench/results/datasets-csv.json), for a run at
 * full size where the rest would take most of an hour on a shared machine.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { ModelTopology } from '@gridtab/shared';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { createNodeContributor } from '../client/src/runtime/index.ts';
import { importFile } from '../coordinator/src/datasets/import/index.ts';
import {
  CAR_COLUMNS,
  cars,
  encodeImage,
  fashionImages,
} from '../coordinator/src/datasets/import/test-data.ts';
import { initTf, tf } from '../coordinator/src/evaluation/tf-node.ts';
import { FileBlobStore } from '../coordinator/src/storage/blob-store.ts';
import { addJob, startTestCoordinator } from '../coordinator/src/testing.ts';
import { drainCsv } from './csv-baseline.ts';
import { machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'csv-mb': { type: 'string' },
    images: { type: 'string' },
    'csv-only': { type: 'boolean', default: false },
  },
});

const quick = values.quick;
const csvMb = Number(values['csv-mb'] ?? (quick ? 20 : 200));
const imageCount = Number(values.images ?? (quick ? 2000 : 20000));
const work = mkdtempSync(join(tmpdir(), 'gridtab-bench-datasets-'));

/** Cars rows repeated with noise until the file holds `mb` MB; `edit` rewrites a stretch. */
function writeCsv(path: string, mb: number, edit?: { from: number; to: number }): number {
  const base = cars();
  const lines = [CAR_COLUMNS.join(',')];
  let bytes = 0;
  let rows = 0;
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const chunks: string[] = [];
  while (bytes < mb * 1024 * 1024) {
    const r = base[rows % base.length];
    const noisy = CAR_COLUMNS.map((c) => {
      const v = r[c];
      if (v === null) return '';
      if (typeof v !== 'number') return v;
      const x = v * (1 + (rand() - 0.5) * 0.1);
      return (edit && rows >= edit.from && rows < edit.to ? x + 1 : x).toFixed(2);
    }).join(',');
    lines.push(noisy);
    bytes += noisy.length + 1;
    rows++;
    if (lines.length >= 10000) chunks.push(lines.splice(0).join('\n'));
  }
  chunks.push(lines.join('\n'));
  writeFileSync(path, `${chunks.join('\n')}\n`);
  return rows;
}

/**
 * Runs a child import (bench/datasets-child.ts, which loads only the importer), sampling its
 * RSS every 50 ms; the child also reports its RSS just before the import began.
 */
async function childImport(format: string, path: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/datasets-child.ts', '--format', format, '--path', path],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {}
  }, 50);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  await new Promise((r) => child.on('exit', r));
  clearInterval(timer);
  const result = JSON.parse(out.trim().split('\n').pop()!) as {
    seconds: number;
    cpuSeconds: number;
    rows: number;
    hash: string;
    rssBeforeMb: number;
  };
  return { ...result, peakRssMb: peak / 1024 / 1024 };
}

/** Wall and CPU seconds of `run` in this process (CPU counts every thread, libvips' too). */
async function timed(run: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  await run();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** csv-parse alone in this process (csv-baseline.ts), recorded beside the lean child's run. */
function csvParseAlone(path: string, forAwait = false) {
  return timed(async () => {
    await drainCsv(path, forAwait);
  });
}

// CSV: throughput against csv-parse alone.
const csvPath = join(work, 'cars.csv');
const csvRows = writeCsv(csvPath, csvMb);
const csvBytes = statSync(csvPath).size;
const parsed = await csvParseAlone(csvPath);
const parsedForAwait = await csvParseAlone(csvPath, true);
// The baseline that counts runs as the import does: in a lean child process (this process holds
// TF.js, a coordinator and the file it just wrote, and its csv-parse ran 30-60% slower than a
// lean one's on 2026-12-07), once before the import and once after; their mean is the baseline.
const leanBefore = await childImport('csv-parse', csvPath);
const csvImport = await childImport('csv', csvPath);
const leanAfter = await childImport('csv-parse', csvPath);
const lean = {
  seconds: (leanBefore.seconds + leanAfter.seconds) / 2,
  cpuSeconds: (leanBefore.cpuSeconds + leanAfter.cpuSeconds) / 2,
};
// The CPU ratio is the one to read on a loaded machine: wall time there measures the neighbours.
const csv = {
  megabytes: csvBytes / 2 ** 20,
  rows: csvRows,
  csvParseMBps: csvBytes / 2 ** 20 / lean.seconds,
  importMBps: csvBytes / 2 ** 20 / csvImport.seconds,
  ratio: lean.seconds / csvImport.seconds,
  csvParseCpuSeconds: lean.cpuSeconds,
  importCpuSeconds: csvImport.cpuSeconds,
  cpuRatio: lean.cpuSeconds / csvImport.cpuSeconds,
  csvParseLeanRuns: [leanBefore, leanAfter].map((r) => ({ seconds: r.seconds, cpuSeconds: r.cpuSeconds })),
  csvParseInBenchProcess: { seconds: parsed.seconds, cpuSeconds: parsed.cpuSeconds },
  ratioToInBenchProcess: parsed.seconds / csvImport.seconds,
  csvParseForAwaitMBps: csvBytes / 2 ** 20 / parsedForAwait.seconds,
  ratioToForAwait: parsedForAwait.seconds / csvImport.seconds,
  peakRssMb: csvImport.peakRssMb,
  rssBeforeImportMb: csvImport.rssBeforeMb,
};
console.log('csv', csv);
if (values['csv-only']) {
  const path = writeResults('datasets-csv', {
    machine: { ...machine(), loadAverage: loadavg() },
    quick,
    csv,
  });
  console.log(`wrote ${path}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

// Images: throughput against sharp decoding alone.
const imgs = await fashionImages(Math.min(imageCount, 60000));
const files: Record<string, Uint8Array> = {};
const pngs: Uint8Array[] = [];
for (const [i, r] of imgs.entries()) {
  const png = await encodeImage(r.pixels, 'png');
  pngs.push(png);
  files[`fashion/class-${r.label}/img-${String(i).padStart(6, '0')}.png`] = png;
}
const zipPath = join(work, 'fashion.zip');
writeFileSync(zipPath, zipSync(files, { level: 0 }));
// The importer (loaded above) sets sharp's cache off and one libvips thread an image; the
// baseline is sharp as it comes, so its defaults are put back here (the import runs in a child).
sharp.cache({ memory: 50, files: 20, items: 100 });
sharp.concurrency(0);
const sharpAlone = await timed(async () => {
  for (let i = 0; i < pngs.length; i += 4) {
    await Promise.all(pngs.slice(i, i + 4).map((p) => sharp(p).toColourspace('b-w').raw().toBuffer()));
  }
});
const imageImport = await childImport('images', zipPath);
const images = {
  count: pngs.length,
  sharpImagesPerS: pngs.length / sharpAlone.seconds,
  importImagesPerS: pngs.length / imageImport.seconds,
  ratio: sharpAlone.seconds / imageImport.seconds,
  sharpCpuSeconds: sharpAlone.cpuSeconds,
  importCpuSeconds: imageImport.cpuSeconds,
  cpuRatio: sharpAlone.cpuSeconds / imageImport.cpuSeconds,
  peakRssMb: imageImport.peakRssMb,
  rssBeforeImportMb: imageImport.rssBeforeMb,
};
console.log('images', images);

/** A dense model for `inputs` features and one regression target (cars' Miles_per_Gallon). */
function denseModel(inputs: number): ModelTopology {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: 16, activation: 'relu' }),
      tf.layers.dense({ units: 1, activation: 'linear' }),
    ],
  });
  const topology = model.toJSON(undefined, false) as unknown as ModelTopology;
  model.dispose();
  return topology;
}

/**
 * Upload to the first trained unit: an in-process coordinator, the bench's CSV streamed to
 * POST /api/datasets/:name/versions (the real route and importer), a regression job on the new
 * version, one Node contributor; stops at the first accepted update.
 */
async function firstUnit(path: string) {
  await initTf();
  const co = await startTestCoordinator({ datasetMaxBytes: 8 * 1024 ** 3 });
  try {
    const t0 = performance.now();
    const res = await fetch(
      `${co.url}/api/datasets/cars-bench/versions?format=csv&label=Miles_per_Gallon&task=regression&missing=impute&fileName=cars.csv`,
      {
        method: 'POST',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/csv' },
        body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit,
    );
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    const version = (await res.json()) as { name: string; version: number; schema: { inputShape: number[] } };
    const imported = performance.now();
    const job = await addJob(co, {
      name: 'first unit',
      dataset: `${version.name}@${version.version}`,
      model: denseModel(version.schema.inputShape[0]),
      hyperparameters: { batchSize: 32, localSteps: 20, learningRate: 0.01, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 120_000, leaseMs: 60_000 },
      stopping: { maxRounds: 1 },
    });
    const created = performance.now();
    const contributor = createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100, log: () => {} });
    await contributor.start();
    while ((await co.store.listUpdates(job.id, 1)).length === 0) await new Promise((r) => setTimeout(r, 50));
    const trained = performance.now();
    await contributor.stop();
    return {
      megabytes: statSync(path).size / 2 ** 20,
      uploadAndImportSeconds: (imported - t0) / 1000,
      jobCreateSeconds: (created - imported) / 1000,
      firstUpdateSeconds: (trained - created) / 1000,
      uploadToFirstUnitSeconds: (trained - t0) / 1000,
    };
  } finally {
    await co.destroy();
  }
}

const first = await firstUnit(csvPath);
console.log('first unit', first);

// A 1% contiguous edit: bytes of new shards against the whole version.
const editMb = Math.min(csvMb, 20);
const v1Path = join(work, 'v1.csv');
const v2Path = join(work, 'v2.csv');
const rows = writeCsv(v1Path, editMb);
writeCsv(v2Path, editMb, { from: Math.floor(rows * 0.5), to: Math.floor(rows * 0.51) });
const blobs = await FileBlobStore.open(join(work, 'blobs'));
/** Imports v1 and v2 under a missing-value policy; the bytes of v2's shards that v1 lacks. */
async function editBytes(missing: 'drop' | 'impute') {
  const v1 = await importFile(
    { path: v1Path, fileName: 'v1.csv', format: 'csv', options: { missing } },
    { blobs },
  );
  const v2 = await importFile(
    { path: v2Path, fileName: 'v2.csv', format: 'csv', options: { missing } },
    { blobs },
  );
  const old = new Set([...v1.shardHashes, ...v1.testHashes]);
  let newBytes = 0;
  for (const h of [...v2.shardHashes, ...v2.testHashes])
    if (!old.has(h)) newBytes += (await blobs.get(h))!.byteLength;
  return { versionBytes: v2.bytes, newShardBytes: newBytes, fraction: newBytes / v2.bytes };
}
// Impute writes NaN for a missing value (readers impute the mean), so it shares shards as drop does.
const edit = {
  rows,
  editedRows: Math.floor(rows * 0.51) - Math.floor(rows * 0.5),
  drop: await editBytes('drop'),
  impute: await editBytes('impute'),
};
console.log('edit', edit);

const path = writeResults('datasets', {
  machine: { ...machine(), loadAverage: loadavg() },
  quick,
  csv,
  images,
  firstUnit: first,
  edit,
});
console.log(`wrote ${path}`);
rmSync(work, { recursive: true, force: true });
