/**
 * Real data for the importer tests and the benchmark: vega-datasets' penguins (classification,
 * categorical island and sex, missing values) and cars (regression of Miles_per_Gallon), and
 * Fashion-MNIST pixels, written at test time as the files users upload.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Row = Record<string, string | number | null>;

const require = createRequire(import.meta.url);
// The package exports only its JS entry (build/index.js); data/ sits beside build/.
const vegaData = join(dirname(require.resolve('vega-datasets')), '..', 'data');

export const PENGUIN_COLUMNS = [
  'Island',
  'Beak Length (mm)',
  'Beak Depth (mm)',
  'Flipper Length (mm)',
  'Body Mass (g)',
  'Sex',
  'Species',
] as const;

export const CAR_COLUMNS = [
  'Cylinders',
  'Displacement',
  'Horsepower',
  'Weight_in_lbs',
  'Acceleration',
  'Origin',
  'Miles_per_Gallon',
] as const;

function load(file: string, columns: readonly string[]): Row[] {
  const rows = JSON.parse(readFileSync(join(vegaData, file), 'utf8')) as Record<string, unknown>[];
  return rows.map((r) =>
    Object.fromEntries(
      columns.map((c) => {
        const v = r[c];
        return [c, v === undefined || v === null || v === '.' ? null : (v as string | number)];
      }),
    ),
  );
}

export const penguins = (): Row[] => load('penguins.json', PENGUIN_COLUMNS);
/** Cars with a known target (a few rows lack Miles_per_Gallon; the importer would drop them). */
export const cars = (): Row[] => load('cars.json', CAR_COLUMNS).filter((r) => r.Miles_per_Gallon !== null);

function quote(v: string, delimiter: string): string {
  return v.includes(delimiter) || v.includes('"') || v.includes('\n') ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Rows as CSV (or TSV) text; null is written as an empty cell. */
export function toDelimited(rows: Row[], columns: readonly string[], delimiter = ','): string {
  const lines = [columns.map((c) => quote(c, delimiter)).join(delimiter)];
  for (const r of rows)
    lines.push(columns.map((c) => quote(r[c] === null ? '' : String(r[c]), delimiter)).join(delimiter));
  return `${lines.join('\n')}\n`;
}

/** A .npy file (format 1.0) of a C-order array. */
export function npy(
  dtype: '<f4' | '<f8' | '|u1' | '<i8' | '<i4',
  shape: number[],
  data: ArrayBufferView,
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Numeric feature matrix (categoricals one-hot by hand) of rows with no missing value. */
export function numericMatrix(rows: Row[], columns: readonly string[]): Float64Array {
  const out = new Float64Array(rows.length * columns.length);
  rows.forEach((r, i) => {
    columns.forEach((c, j) => {
      out[i * columns.length + j] = Number(r[c]);
    });
  });
  return out;
}

/** Rows as a Parquet file (hyparquet-writer), in row groups of `rowGroupSize` rows. */
export async function toParquet(
  rows: Row[],
  columns: readonly string[],
  rowGroupSize = 100,
): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = columns.map((c) => {
    const numeric = rows.every((r) => r[c] === null || typeof r[c] === 'number');
    return {
      name: c,
      data: rows.map((r) => r[c]),
      type: numeric ? ('DOUBLE' as const) : ('STRING' as const),
      nullable: true,
    };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize }));
}

let fashion: ReturnType<typeof import('../fashion-mnist.ts').loadFashionMnist> | null = null;

/** The first `count` Fashion-MNIST training (or test) images and labels. */
export async function fashionImages(count: number, from: 'train' | 'test' = 'train', start = 0) {
  const { loadFashionMnist, DEFAULT_FASHION_MNIST_DIR } = await import('../fashion-mnist.ts');
  fashion ??= loadFashionMnist(process.env.FASHION_MNIST_DIR ?? DEFAULT_FASHION_MNIST_DIR);
  const set = fashion[from];
  return Array.from({ length: count }, (_, i) => ({
    pixels: set.pixels.subarray((start + i) * 784, (start + i + 1) * 784),
    label: set.labels[start + i],
  }));
}

/** A 28x28 grayscale image as PNG or JPEG bytes. */
export async function encodeImage(pixels: Uint8Array, kind: 'png' | 'jpeg'): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default;
  const img = sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w');
  return new Uint8Array(await (kind === 'png' ? img.png() : img.jpeg({ quality: 95 })).toBuffer());
}

/** A tar of the files (tar-stream), gzipped when asked. */
export async function toTar(files: Record<string, Uint8Array>, gzip: boolean): Promise<Uint8Array> {
  const tar = (await import('tar-stream')).default;
  const { gzipSync } = await import('node:zlib');
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => pack.on('end', r));
  for (const [name, data] of Object.entries(files))
    pack.entry({ name, size: data.length }, Buffer.from(data));
  pack.finalize();
  await done;
  const out = Buffer.concat(chunks);
  return new Uint8Array(gzip ? gzipSync(out) : out);
}

/** A zip of the files (fflate), stored without compression as PNGs already are compressed. */
export async function toZip(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const { zipSync } = await import('fflate');
  return zipSync(files, { level: 0 });
}
