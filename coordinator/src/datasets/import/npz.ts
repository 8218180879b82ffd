/**
 * NPZ importer: a zip (yauzl) of .npy arrays `x` (samples on the first axis, any sample shape)
 * and `y` (integer class labels, float targets, or 2-D float targets), with optional
 * `x_test`/`y_test` for the file's own split. No maintained npm package streams .npy, and its
 * header is tiny (magic, version, a Python dict literal), so it is parsed here; the array bytes
 * stream entry by entry, one sample at a time, so x is never held whole.
 */
import type { Readable } from 'node:stream';
import { GridTabError } from '@gridtab/shared';
import type { Importer } from '../importer.ts';
import { type ZipEntry, zipEntries } from './archive.ts';
import { type BuilderLabels, cancelled, type Split, VersionBuilder } from './version-builder.ts';

interface NpyHeader {
  dtype: string;
  shape: number[];
  /** Bytes before the data. */
  offset: number;
}

const READERS: Record<string, { bytes: number; get: (v: DataView, o: number) => number; integer: boolean }> =
  {
    '|u1': { bytes: 1, get: (v, o) => v.getUint8(o), integer: true },
    '<u1': { bytes: 1, get: (v, o) => v.getUint8(o), integer: true },
    '|i1': { bytes: 1, get: (v, o) => v.getInt8(o), integer: true },
    '|b1': { bytes: 1, get: (v, o) => v.getUint8(o), integer: true },
    '<i2': { bytes: 2, get: (v, o) => v.getInt16(o, true), integer: true },
    '<u2': { bytes: 2, get: (v, o) => v.getUint16(o, true), integer: true },
    '<i4': { bytes: 4, get: (v, o) => v.getInt32(o, true), integer: true },
    '<u4': { bytes: 4, get: (v, o) => v.getUint32(o, true), integer: true },
    '<i8': { bytes: 8, get: (v, o) => Number(v.getBigInt64(o, true)), integer: true },
    '<u8': { bytes: 8, get: (v, o) => Number(v.getBigUint64(o, true)), integer: true },
    '<f4': { bytes: 4, get: (v, o) => v.getFloat32(o, true), integer: false },
    '<f8': { bytes: 8, get: (v, o) => v.getFloat64(o, true), integer: false },
  };

export function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) {
    throw new GridTabError('INVALID_FORMAT', `${where}: not a .npy array (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start + len)
    throw new GridTabError('INVALID_FORMAT', `${where}: .npy header is truncated`);
  const dict = new TextDecoder().decode(bytes.subarray(start, start + len));
  const descr = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || !fortran || shapeText === undefined) {
    throw new GridTabError(
      'INVALID_FORMAT',
      `${where}: .npy header is not a dict with descr, fortran_order and shape`,
    );
  }
  if (fortran === 'True')
    throw new GridTabError('INVALID_FORMAT', `${where}: Fortran-order arrays are not supported`);
  const dtype = descr === '=f4' ? '<f4' : descr === '=f8' ? '<f8' : descr;
  if (!READERS[dtype]) throw new GridTabError('INVALID_FORMAT', `${where}: dtype ${descr} is not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  return { dtype, shape, offset: start + len };
}

/** Streams an array's values, `width` at a time (one sample), after its header. */
async function* samples(entry: ZipEntry, width: number, signal?: AbortSignal): AsyncGenerator<Float64Array> {
  const stream: Readable = await entry.stream();
  let header: NpyHeader | null = null;
  let pending: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  const out = new Float64Array(width);
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw cancelled();
      pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
      if (!header) {
        if (pending.length < 12) continue;
        const len = pending[6] === 1 ? pending.readUInt16LE(8) + 10 : pending.readUInt32LE(8) + 12;
        if (pending.length < len) continue;
        header = parseNpyHeader(pending, entry.name);
        pending = pending.subarray(header.offset);
      }
      const r = READERS[header.dtype];
      const step = width * r.bytes;
      const view = new DataView(pending.buffer, pending.byteOffset, pending.byteLength);
      let o = 0;
      for (; o + step <= pending.length; o += step) {
        for (let i = 0; i < width; i++) out[i] = r.get(view, o + i * r.bytes);
        yield out;
      }
      pending = pending.subarray(o);
    }
  } finally {
    stream.destroy();
  }
}

/**
 * The array's header. The entry is read to its end: destroying a yauzl stream mid-entry
 * leaves a read in flight that fails once the zip is closed, so only whole reads are safe.
 */
async function headerOf(entry: ZipEntry): Promise<NpyHeader> {
  const stream = await entry.stream();
  let buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  let header: NpyHeader | null = null;
  for await (const chunk of stream) {
    if (header) continue;
    buf = Buffer.concat([buf, chunk as Buffer]);
    if (
      buf.length >= 12 &&
      buf.length >= (buf[6] === 1 ? buf.readUInt16LE(8) + 10 : buf.readUInt32LE(8) + 12)
    ) {
      header = parseNpyHeader(buf, entry.name);
    }
  }
  return header ?? parseNpyHeader(buf, entry.name);
}

export const importNpz: Importer = async (input, deps) => {
  const { options, fileName } = input;
  const zip = await zipEntries(input.path, fileName);
  try {
    const byName = new Map(zip.entries.map((e) => [e.name.replace(/\.npy$/, ''), e]));
    const need = (n: string) => {
      const e = byName.get(n);
      if (!e)
        throw new GridTabError(
          n.startsWith('y') ? 'MISSING_LABEL' : 'INVALID_FORMAT',
          `${fileName}: no array "${n}" (has ${[...byName.keys()].join(', ')})`,
        );
      return e;
    };
    const parts: { x: ZipEntry; y: ZipEntry; split: Split | undefined }[] = [];
    const hasTest = byName.has('x_test') || byName.has('y_test');
    parts.push({ x: need('x'), y: need('y'), split: hasTest ? 'train' : undefined });
    if (hasTest) parts.push({ x: need('x_test'), y: need('y_test'), split: 'test' });

    const heads = await Promise.all(
      parts.map(async (p) => ({ x: await headerOf(p.x), y: await headerOf(p.y) })),
    );
    const x0 = heads[0].x;
    const y0 = heads[0].y;
    for (const [i, h] of heads.entries()) {
      const where = `${fileName}: ${parts[i].x.name} and ${parts[i].y.name}`;
      if (h.x.shape[0] !== h.y.shape[0]) {
        throw new GridTabError(
          'INCONSISTENT_SAMPLES',
          `${where} differ in count: ${h.x.shape[0]} samples, ${h.y.shape[0]} labels`,
        );
      }
      if (
        h.x.shape.slice(1).join() !== x0.shape.slice(1).join() ||
        h.x.dtype !== x0.dtype ||
        h.y.dtype !== y0.dtype ||
        h.y.shape.slice(1).join() !== y0.shape.slice(1).join()
      ) {
        throw new GridTabError('INCONSISTENT_SAMPLES', `${where}: shapes or dtypes differ from x and y`);
      }
    }
    const sampleShape = x0.shape.length > 1 ? x0.shape.slice(1) : [1];
    const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
    const labelWidth = y0.shape.length > 1 ? y0.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const classification = options.task
      ? options.task === 'classification'
      : READERS[y0.dtype].integer && labelWidth === 1;

    // Labels first: classes must be known before the first shard is written.
    let labels: BuilderLabels;
    const classIndex = new Map<number, number>();
    if (classification) {
      for (const p of parts) for await (const v of samples(p.y, 1, deps.signal)) classIndex.set(v[0], 0);
      const values = [...classIndex.keys()].sort((a, b) => a - b);
      for (const [i, v] of values.entries()) classIndex.set(v, i);
      labels = { kind: 'classification', classNames: values.map(String) };
    } else {
      labels = {
        kind: 'regression',
        targetNames: labelWidth === 1 ? ['y'] : Array.from({ length: labelWidth }, (_, i) => `y[${i}]`),
      };
    }
    const u8 = x0.dtype === '|u1' || x0.dtype === '<u1';
    const builder = new VersionBuilder(
      {
        inputShape: sampleShape,
        inputDtype: u8 ? 'uint8' : 'float32',
        labels,
        featureNames: null,
        labelColumn: 'y',
        normalize: u8 ? 'pixels' : sampleShape.length === 1 ? 'features' : 'global',
        fileSplit: hasTest,
        shardSize: options.shardSize,
        seed: options.seed,
        testFraction: options.testFraction,
      },
      deps,
    );
    const x = u8 ? new Uint8Array(sampleSize) : new Float32Array(sampleSize);
    const y = new Float32Array(labelWidth);
    return await builder.buildFrom(async () => {
      for (const p of parts) {
        const ys = samples(p.y, labelWidth, deps.signal);
        let n = 0;
        for await (const row of samples(p.x, sampleSize, deps.signal)) {
          const label = (await ys.next()).value as Float64Array;
          for (let i = 0; i < sampleSize; i++) {
            if (!Number.isFinite(row[i])) {
              throw new GridTabError(
                'NON_FINITE_VALUE',
                `${fileName}: ${p.x.name}, sample ${n}, value ${i} is ${row[i]}`,
              );
            }
            x[i] = row[i];
          }
          n++;
          let pending: Promise<void> | undefined;
          if (classification) pending = builder.add(x, classIndex.get(label[0])!, p.split);
          else {
            for (let i = 0; i < labelWidth; i++) {
              if (!Number.isFinite(label[i])) {
                throw new GridTabError(
                  'NON_FINITE_VALUE',
                  `${fileName}: ${p.y.name}, sample ${n - 1} is ${label[i]}`,
                );
              }
              y[i] = label[i];
            }
            pending = builder.add(x, y, p.split);
          }
          if (pending) await pending;
        }
        await ys.return(undefined);
      }
    });
  } finally {
    zip.close();
  }
};
