/**
 * Turns rows, one at a time and in file order, into a dataset version's content: shards written
 * to the blob store as soon as they fill (memory stays bounded whatever the file's size),
 * streaming statistics, class counts, duplicates, the split and the normalization. Every
 * importer feeds one of these, so formats differ only in how they read rows.
 *
 * Shards are cut where the content says, not every N rows: a shard ends after a row whose hash
 * falls under 1 / shardSize (at least shardSize / 4 and at most 4 x shardSize rows). An edit
 * that moves a row between train and test, or a dropped or inserted row, then changes only the
 * shards around it instead of shifting every later boundary; an append changes only the last
 * shard. The mean shard holds about shardSize rows, which is what the scheduler plans with.
 */
import {
  type DatasetSchema,
  type DatasetSplits,
  type DatasetStats,
  encodeShard,
  type FeatureStats,
  GridTabError,
  type Normalization,
  PIXEL_NORMALIZATION,
  type QualityIssue,
} from '@gridtab/shared';
import type { BlobBatch } from '../../storage/blob-store.ts';
import { versionHash } from '../data-spec.ts';
import type { ImportDeps, ImportedContent } from '../importer.ts';
import { cancelled } from './cancelled.ts';
import { DistinctCounter64, hash64Into, unitOf } from './row-hash.ts';

export type Split = 'train' | 'test';

export type BuilderLabels =
  | { kind: 'classification'; classNames: string[] }
  | { kind: 'regression'; targetNames: string[] };

export interface BuilderSetup {
  inputShape: number[];
  inputDtype: 'uint8' | 'float32';
  labels: BuilderLabels;
  /** Tabular: a name per input value; stats and normalization are then per feature. */
  featureNames: string[] | null;
  categorical?: DatasetSchema['categorical'];
  labelColumn: string | null;
  /** `pixels`: PIXEL_NORMALIZATION; `features`: per-feature standardization (tabular). */
  normalize: 'pixels' | 'features' | 'global';
  /** True when the file says which rows are test rows (every add then passes a split). */
  fileSplit: boolean;
  /** True when shards hold NaN for missing values that readers impute by the train mean. */
  imputed?: boolean;
  shardSize?: number;
  /** Rows to come, when the importer knows (sizes the duplicate set once). */
  expectedRows?: number;
  seed?: number;
  testFraction?: number;
  /** For progress reports: bytes of the file read so far, and its size. */
  bytesRead?: () => number;
  bytesTotal?: number;
}

/** Welford's streaming mean and variance with min, max and a missing count, per slot. */
class Moments {
  readonly n: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly missing: Float64Array;
  constructor(size: number) {
    this.n = new Float64Array(size);
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
    this.min = new Float64Array(size).fill(Number.POSITIVE_INFINITY);
    this.max = new Float64Array(size).fill(Number.NEGATIVE_INFINITY);
    this.missing = new Float64Array(size);
  }
  add(slot: number, v: number): void {
    // NaN is a missing value left for readers to impute: counted in `missing`, not here.
    if (Number.isNaN(v)) return;
    const n = ++this.n[slot];
    const d = v - this.mean[slot];
    this.mean[slot] += d / n;
    this.m2[slot] += d * (v - this.mean[slot]);
    if (v < this.min[slot]) this.min[slot] = v;
    if (v > this.max[slot]) this.max[slot] = v;
  }
  /** Adds counts of the values 0..255 per slot (hist[slot * 256 + v]), as Welford's merge. */
  addHistogram(hist: Float64Array): void {
    for (let slot = 0; slot * 256 < hist.length; slot++) {
      let n = 0;
      let sum = 0;
      for (let v = 0; v < 256; v++) {
        const c = hist[slot * 256 + v];
        if (c === 0) continue;
        n += c;
        sum += c * v;
        if (v < this.min[slot]) this.min[slot] = v;
        if (v > this.max[slot]) this.max[slot] = v;
      }
      if (n === 0) continue;
      const mean = sum / n;
      let m2 = 0;
      for (let v = 0; v < 256; v++) m2 += hist[slot * 256 + v] * (v - mean) ** 2;
      const total = this.n[slot] + n;
      const d = mean - this.mean[slot];
      this.m2[slot] += m2 + (d * d * this.n[slot] * n) / total;
      this.mean[slot] += (d * n) / total;
      this.n[slot] = total;
    }
  }
  std(slot: number): number {
    return this.n[slot] > 1 ? Math.sqrt(this.m2[slot] / this.n[slot]) : 0;
  }
  stats(names: string[]): FeatureStats[] {
    return names.map((name, i) => ({
      name,
      mean: this.mean[i],
      std: this.std(i),
      min: this.n[i] > 0 ? this.min[i] : 0,
      max: this.n[i] > 0 ? this.max[i] : 0,
      missing: this.missing[i],
    }));
  }
}

/** Rows of one split waiting for their shard to close. */
class ShardBuffer {
  count = 0;
  readonly x: Uint8Array | Float32Array;
  readonly y: Uint16Array | Float32Array;
  constructor(
    readonly capacity: number,
    readonly sampleSize: number,
    readonly labelWidth: number,
    dtype: 'uint8' | 'float32',
    classes: boolean,
  ) {
    this.x =
      dtype === 'uint8' ? new Uint8Array(capacity * sampleSize) : new Float32Array(capacity * sampleSize);
    this.y = classes ? new Uint16Array(capacity) : new Float32Array(capacity * labelWidth);
  }
  encode(): Uint8Array {
    const { count, sampleSize, labelWidth } = this;
    return encodeShard({
      count,
      sampleSize,
      labelWidth,
      x: this.x.subarray(0, count * sampleSize),
      y: this.y.subarray(0, count * labelWidth),
    });
  }
}

/** Shard writes in flight at most while rows keep coming. */
const MAX_WRITES = 8;

export { cancelled };

export class VersionBuilder {
  private readonly sampleSize: number;
  private readonly labelWidth: number;
  private readonly classes: boolean;
  private readonly shardSize: number;
  private readonly seed: number;
  private readonly testFraction: number;
  /** Stats slots: one per feature (tabular), per channel (images), or one for all values. */
  private readonly slots: number;
  private readonly slotNames: string[];
  private readonly moments: Moments;
  private readonly targets: Moments | null;
  private readonly counts: { train: number[]; test: number[] } | null;
  private readonly seen: DistinctCounter64;
  private readonly buffers: Record<Split, ShardBuffer>;
  /** Shard writes (their hashes) in shard order, and those not yet waited for. */
  private readonly hashes: Record<Split, Promise<string>[]> = { train: [], test: [] };
  private writing: Promise<string>[] = [];
  /** The store's batch when it has one: shards are fsynced together when the version is done. */
  private readonly batch: BlobBatch | null;
  private readonly rows: Record<Split, number> = { train: 0, test: 0 };
  private readonly warnings: QualityIssue[] = [];
  private readonly rowBytes: Uint8Array;
  private readonly rowX: Uint8Array | Float32Array;
  private readonly rowY: Uint16Array | Float32Array;
  /** The staged label's bytes, when they must be copied behind the inputs (else null). */
  private readonly rowYBytes: Uint8Array | null;
  private histogram: Float64Array | null = null;
  private bytes = 0;
  private dropped = 0;
  private missingLabels = 0;
  private added = 0;
  /** The row hash's two lanes (hash64Into), reused for every row. */
  private readonly lanes = new Uint32Array(2);
  /** Rows a shard holds at least before a content-defined cut. */
  private readonly minShard: number;

  constructor(
    private readonly setup: BuilderSetup,
    private readonly deps: ImportDeps,
  ) {
    const { inputShape, labels } = setup;
    this.sampleSize = inputShape.reduce((a, b) => a * b, 1);
    this.classes = labels.kind === 'classification';
    this.labelWidth = labels.kind === 'classification' ? 1 : labels.targetNames.length;
    this.shardSize = Math.max(4, setup.shardSize ?? 1000);
    this.minShard = Math.floor(this.shardSize / 4);
    this.seed = setup.seed ?? 1;
    this.testFraction = setup.testFraction ?? 0.2;
    if (setup.normalize === 'features') {
      this.slotNames = setup.featureNames ?? inputShape.map((_, i) => `feature ${i}`);
    } else if (setup.normalize === 'pixels' && inputShape.length === 3) {
      this.slotNames = Array.from({ length: inputShape[2] }, (_, c) => `channel ${c}`);
    } else {
      this.slotNames = ['all values'];
    }
    this.slots = this.slotNames.length;
    this.moments = new Moments(this.slots);
    this.seen = new DistinctCounter64(setup.expectedRows);
    this.targets = labels.kind === 'regression' ? new Moments(this.labelWidth) : null;
    this.counts =
      labels.kind === 'classification'
        ? { train: labels.classNames.map(() => 0), test: labels.classNames.map(() => 0) }
        : null;
    const xBytes = this.sampleSize * (setup.inputDtype === 'uint8' ? 1 : 4);
    this.rowBytes = new Uint8Array(xBytes + this.labelWidth * (this.classes ? 2 : 4));
    this.rowX =
      setup.inputDtype === 'uint8'
        ? this.rowBytes.subarray(0, xBytes)
        : new Float32Array(this.rowBytes.buffer, 0, this.sampleSize);
    // The label's bytes follow the inputs'; when the inputs end off the label's alignment (odd
    // uint8 sizes) the label is staged in its own array and its bytes copied behind them.
    const yAlign = this.classes ? 2 : 4;
    const yBuffer = xBytes % yAlign === 0 ? this.rowBytes.buffer : new ArrayBuffer(this.labelWidth * yAlign);
    const yOffset = xBytes % yAlign === 0 ? xBytes : 0;
    this.rowY = this.classes
      ? new Uint16Array(yBuffer, yOffset, 1)
      : new Float32Array(yBuffer, yOffset, this.labelWidth);
    this.rowYBytes = xBytes % yAlign === 0 ? null : new Uint8Array(yBuffer);
    const cap = this.shardSize * 4;
    const make = () => new ShardBuffer(cap, this.sampleSize, this.labelWidth, setup.inputDtype, this.classes);
    this.buffers = { train: make(), test: make() };
    this.batch = deps.blobs.batch?.() ?? null;
  }

  /** A value the importer found missing (and imputed or dropped), for the feature's stats. */
  noteMissing(feature: number): void {
    if (feature < this.slots) this.moments.missing[feature]++;
  }

  noteDropped(): void {
    this.dropped++;
  }

  noteMissingLabel(): void {
    this.missingLabels++;
    this.dropped++;
  }

  warn(issue: QualityIssue): void {
    this.warnings.push(issue);
  }

  /**
   * Adds a row: `x` holds sampleSize values, `label` a class index or the targets. The split
   * is the file's when given, else a seeded hash of the row's content. Returns a promise only
   * when the row closed a shard (await it before the next add; the shard is being written).
   */
  add(x: ArrayLike<number>, label: number | ArrayLike<number>, split?: Split): Promise<void> | undefined {
    const { sampleSize, labelWidth } = this;
    if (x.length !== sampleSize) {
      throw new GridTabError('INCONSISTENT_SAMPLES', `a row has ${x.length} values; expected ${sampleSize}`);
    }
    // The row's stored bytes (inputs, then label) in one reused buffer, written through views
    // made once: a view or subarray per row costs more than the row's whole hash.
    const { rowX, rowY } = this;
    // A loop for a short row (a table's): TypedArray.set's call costs more than its copy there.
    if (sampleSize > 64) rowX.set(x);
    else for (let i = 0; i < sampleSize; i++) rowX[i] = x[i];
    if (typeof label === 'number') rowY[0] = label;
    else for (let i = 0; i < labelWidth; i++) rowY[i] = label[i];
    if (this.rowYBytes) this.rowBytes.set(this.rowYBytes, rowX.byteLength);
    const h = this.lanes;
    hash64Into(h, this.rowBytes, 0, this.rowBytes.length);
    this.seen.add(h[0], h[1]);
    const s: Split = split ?? (unitOf(h[0], this.seed) < this.testFraction ? 'test' : 'train');
    const buf = this.buffers[s];
    const xo = buf.count * sampleSize;
    if (sampleSize > 64) buf.x.set(rowX, xo);
    else for (let i = 0; i < sampleSize; i++) buf.x[xo + i] = rowX[i];
    for (let i = 0; i < labelWidth; i++) buf.y[buf.count * labelWidth + i] = rowY[i];
    buf.count++;
    this.rows[s]++;
    if (s === 'train') this.observe(rowX, rowY);
    if (this.counts && typeof label === 'number') {
      if (!Number.isInteger(label) || label < 0 || label >= this.counts.train.length) {
        throw new GridTabError('BAD_REQUEST', `class index ${label} is out of range`);
      }
      this.counts[s][label]++;
    }
    if (++this.added % 4096 === 0) this.tick();
    // Content-defined cut: the row's hash (independent of the split draw) decides.
    const min = this.minShard;
    const cut =
      buf.count >= buf.capacity ||
      (buf.count >= min && unitOf(h[0], this.seed ^ 0x5bd1e995) < 1 / (this.shardSize - min));
    return cut ? this.flush(s) : undefined;
  }

  private observe(x: Uint8Array | Float32Array, y: Uint16Array | Float32Array): void {
    const { slots, moments } = this;
    if (x instanceof Uint8Array) {
      // Pixels: a histogram per slot (an increment a value, no division); folded into the
      // moments once, at finish.
      if (!this.histogram) this.histogram = new Float64Array(slots * 256);
      const hist = this.histogram;
      if (slots === 1) for (let i = 0; i < x.length; i++) hist[x[i]]++;
      else for (let i = 0; i < x.length; i++) hist[(i % slots) * 256 + x[i]]++;
    } else if (slots === x.length) for (let i = 0; i < slots; i++) moments.add(i, x[i]);
    else if (slots === 1) for (let i = 0; i < x.length; i++) moments.add(0, x[i]);
    else for (let i = 0; i < x.length; i++) moments.add(i % slots, x[i]);
    if (this.targets) for (let t = 0; t < y.length; t++) this.targets.add(t, y[t]);
  }

  private tick(): void {
    if (this.deps.signal?.aborted) throw cancelled();
    this.deps.onProgress?.({
      bytesRead: this.setup.bytesRead?.() ?? 0,
      bytesTotal: this.setup.bytesTotal ?? 0,
      rows: this.added,
    });
  }

  /**
   * Closes the split's shard and starts its write. Up to MAX_WRITES writes run while rows keep
   * coming (each put fsyncs, which would otherwise stall the parse); the promise returned, when
   * there is one, waits for the oldest. Hashes keep the shards' order whatever finishes first.
   */
  private flush(s: Split): Promise<void> | undefined {
    const buf = this.buffers[s];
    if (buf.count === 0) return undefined;
    if (this.deps.signal?.aborted) throw cancelled();
    const bytes = buf.encode();
    buf.count = 0;
    this.bytes += bytes.byteLength;
    const put = this.batch ? this.batch.put(bytes) : this.deps.blobs.put(bytes);
    // Awaited in order by finish or settled; this only keeps a failure from going unhandled first.
    put.catch(() => {});
    this.hashes[s].push(put);
    this.writing.push(put);
    if (this.writing.length < MAX_WRITES) return undefined;
    return this.writing.shift()!.then(() => undefined);
  }

  /**
   * Runs `feed` (the rows' adds), then finish. When either throws, the shard writes started
   * finish first, so every blob is in the store before the import's failure is handled.
   */
  async buildFrom(feed: () => Promise<void>): Promise<ImportedContent> {
    try {
      await feed();
      return await this.finish();
    } catch (e) {
      await this.settled();
      throw e;
    }
  }

  /**
   * Waits for every shard write started, failed or not, and drops a batch's uncommitted
   * writes: call before giving up on an import.
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.hashes.train, ...this.hashes.test]);
    await this.batch?.abort().catch(() => {});
  }

  /**
   * Closes the last shards, checks the whole, and returns the version's content, its shards
   * durable (a batch is committed last, so a refused import never syncs).
   */
  async finish(): Promise<ImportedContent> {
    const content = await this.content();
    await this.batch?.commit();
    return content;
  }

  private async content(): Promise<ImportedContent> {
    this.flush('train');
    this.flush('test');
    await Promise.allSettled([...this.hashes.train, ...this.hashes.test]);
    const shardHashes = await Promise.all(this.hashes.train);
    const testHashes = await Promise.all(this.hashes.test);
    const { setup, rows } = this;
    if (rows.train + rows.test === 0 && this.missingLabels > 0) {
      throw new GridTabError('MISSING_LABEL', `all ${this.missingLabels} rows lack a label`);
    }
    if (rows.train === 0 || rows.test === 0) {
      throw new GridTabError(
        'EMPTY_DATASET',
        `the file gives ${rows.train} training and ${rows.test} test rows; both must be non-empty`,
      );
    }
    const labels = setup.labels;
    if (labels.kind === 'classification' && this.counts) {
      const present = labels.classNames.filter((_, i) => this.counts!.train[i] + this.counts!.test[i] > 0);
      if (present.length < 2) {
        throw new GridTabError(
          'SINGLE_CLASS',
          `the labels hold one class (${present[0] ?? 'none'}): nothing to learn`,
        );
      }
    }
    if (this.histogram) this.moments.addHistogram(this.histogram);
    const features = this.moments.stats(this.slotNames);
    const constant = features.filter((f) => f.min === f.max).map((f) => f.name);
    if (constant.length > 0 && setup.normalize === 'features') {
      this.warn({
        code: 'CONSTANT_FEATURE',
        message: `constant in the training rows: ${constant.slice(0, 10).join(', ')}${constant.length > 10 ? '...' : ''}`,
        count: constant.length,
      });
    }
    const duplicates = this.seen.added - this.seen.distinct();
    if (duplicates > 0) {
      this.warn({
        code: 'DUPLICATE_ROWS',
        message: `${duplicates} rows repeat an earlier row exactly`,
        count: duplicates,
      });
    }
    const targetStats =
      this.targets && labels.kind === 'regression' ? this.targets.stats(labels.targetNames) : null;
    const orOne = (s: number) => (s > 0 && Number.isFinite(s) ? s : 1);
    const normalization: Normalization =
      setup.normalize === 'pixels'
        ? PIXEL_NORMALIZATION
        : {
            inputMean: features.map((f) => f.mean),
            inputStd: features.map((f) => orOne(f.std)),
            targetMean: targetStats ? targetStats.map((t) => t.mean) : null,
            targetStd: targetStats ? targetStats.map((t) => orOne(t.std)) : null,
          };
    // Only set when it applies, so versions without imputed values keep their hashes.
    if (setup.imputed && features.some((f) => f.missing > 0)) normalization.imputation = 'mean';
    if (setup.normalize === 'pixels' && targetStats) {
      normalization.targetMean = targetStats.map((t) => t.mean);
      normalization.targetStd = targetStats.map((t) => orOne(t.std));
    }
    const schema: DatasetSchema = {
      task:
        labels.kind === 'classification'
          ? { kind: 'classification', numClasses: labels.classNames.length }
          : { kind: 'regression', numTargets: labels.targetNames.length },
      inputShape: setup.inputShape,
      inputDtype: setup.inputDtype,
      featureNames: setup.featureNames,
      categorical: setup.categorical ?? [],
      labelColumn: setup.labelColumn,
      classNames: labels.kind === 'classification' ? labels.classNames : null,
      targetNames: labels.kind === 'regression' ? labels.targetNames : null,
    };
    const splits: DatasetSplits = setup.fileSplit
      ? { method: 'file', seed: null, testFraction: null, train: rows.train, test: rows.test }
      : {
          method: 'hash',
          seed: this.seed,
          testFraction: this.testFraction,
          train: rows.train,
          test: rows.test,
        };
    const named = (counts: number[]) =>
      labels.kind === 'classification'
        ? Object.fromEntries(labels.classNames.map((c, i) => [c, counts[i]]))
        : {};
    const stats: DatasetStats = {
      features,
      targets: targetStats,
      classCounts: this.counts ? { train: named(this.counts.train), test: named(this.counts.test) } : null,
      duplicates,
      droppedRows: this.dropped,
      warnings: this.warnings,
    };
    return {
      hash: await versionHash({ schema, normalization, splits, shardHashes, testHashes }),
      schema,
      stats,
      splits,
      normalization,
      numTrain: rows.train,
      numTest: rows.test,
      shardSize: this.shardSize,
      shardHashes,
      testHashes,
      bytes: this.bytes,
    };
  }
}
