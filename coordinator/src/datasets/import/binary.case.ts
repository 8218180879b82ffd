/**
 * Importer cases for the binary formats (Parquet, NPZ, image archives, IDX archives), beside
 * the tabular text cases in importer.case.ts; both lists run in importer.test.ts.
 */
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { encodeIdx } from '../idx.ts';
import type { BadCase, GoodCase } from './importer.case.ts';
import { put } from './importer.case.ts';
import {
  CAR_COLUMNS,
  cars,
  encodeImage,
  fashionImages,
  npy,
  numericMatrix,
  PENGUIN_COLUMNS,
  penguins,
  toParquet,
  toTar,
} from './test-data.ts';

const CAR_NUMERIC = ['Cylinders', 'Displacement', 'Weight_in_lbs', 'Acceleration'];

async function carsNpz(appended?: boolean): Promise<Uint8Array> {
  let rows = cars();
  if (appended)
    rows = [...rows, ...rows.slice(0, 4).map((r) => ({ ...r, Acceleration: Number(r.Acceleration) + 1 }))];
  const x = numericMatrix(rows, CAR_NUMERIC);
  const y = Float64Array.from(rows, (r) => Number(r.Miles_per_Gallon));
  return zipSync({
    'x.npy': npy('<f8', [rows.length, CAR_NUMERIC.length], x),
    'y.npy': npy('<f8', [rows.length], y),
  });
}

async function fashionNpz(train: number): Promise<Uint8Array> {
  const tr = await fashionImages(train);
  const te = await fashionImages(60, 'test');
  const xs = (s: typeof tr) => {
    const out = new Uint8Array(s.length * 784);
    s.forEach((r, i) => {
      out.set(r.pixels, i * 784);
    });
    return out;
  };
  const ys = (s: typeof tr) => BigInt64Array.from(s, (r) => BigInt(r.label));
  return zipSync({
    'x.npy': npy('|u1', [tr.length, 28, 28], xs(tr)),
    'y.npy': npy('<i8', [tr.length], ys(tr)),
    'x_test.npy': npy('|u1', [te.length, 28, 28], xs(te)),
    'y_test.npy': npy('<i8', [te.length], ys(te)),
  });
}

/** Fashion-MNIST images as files `<top>/<split?>/<class>/img-<n>.<ext>`. */
async function imageFiles(count: number, kind: 'png' | 'jpeg', splitFolders: boolean) {
  const files: Record<string, Uint8Array> = {};
  const tr = await fashionImages(count);
  for (const [i, r] of tr.entries()) {
    const split = splitFolders ? (i % 5 === 4 ? 'test/' : 'train/') : '';
    files[
      `clothes/${split}class-${r.label}/img-${String(i).padStart(5, '0')}.${kind === 'png' ? 'png' : 'jpg'}`
    ] = await encodeImage(r.pixels, kind);
  }
  return files;
}

async function idxArchive(train: number, gz: boolean): Promise<Record<string, Uint8Array>> {
  const tr = await fashionImages(train);
  const te = await fashionImages(60, 'test');
  const images = (s: typeof tr) => {
    const px = new Uint8Array(s.length * 784);
    s.forEach((r, i) => {
      px.set(r.pixels, i * 784);
    });
    return encodeIdx([s.length, 28, 28], px);
  };
  const labels = (s: typeof tr) =>
    encodeIdx(
      [s.length],
      Uint8Array.from(s, (r) => r.label),
    );
  const z = (b: Uint8Array) => (gz ? new Uint8Array(gzipSync(b)) : b);
  const ext = gz ? '.gz' : '';
  return {
    [`fashion/train-images-idx3-ubyte${ext}`]: z(images(tr)),
    [`fashion/train-labels-idx1-ubyte${ext}`]: z(labels(tr)),
    [`fashion/t10k-images-idx3-ubyte${ext}`]: z(images(te)),
    [`fashion/t10k-labels-idx1-ubyte${ext}`]: z(labels(te)),
  };
}

export function binaryGoodCases(): GoodCase[] {
  return [
    {
      name: 'parquet: penguins in row groups of 100, categorical island and sex imputed',
      format: 'parquet',
      write: async (dir, appended) => {
        let rows = penguins();
        if (appended) rows = [...rows, ...rows.slice(0, 4).map((r) => ({ ...r, 'Body Mass (g)': 5000 }))];
        return put(dir, 'penguins.parquet', await toParquet(rows, PENGUIN_COLUMNS), {
          label: 'Species',
          missing: 'impute',
        });
      },
      task: { kind: 'classification', numClasses: 3 },
      inputShape: [9],
      inputDtype: 'float32',
      rows: 344,
      classNames: ['Adelie', 'Chinstrap', 'Gentoo'],
      splitMethod: 'hash',
    },
    {
      name: 'parquet: cars regression, rows lacking horsepower dropped',
      format: 'parquet',
      write: async (dir, appended) => {
        let rows = cars();
        if (appended) rows = [...rows, ...rows.slice(0, 4).map((r) => ({ ...r, Acceleration: 30 }))];
        return put(dir, 'cars.parquet', await toParquet(rows, CAR_COLUMNS), { missing: 'drop' });
      },
      task: { kind: 'regression', numTargets: 1 },
      inputShape: [8],
      inputDtype: 'float32',
      rows: 392,
      droppedRows: 6,
      splitMethod: 'hash',
    },
    {
      name: 'npz: cars as float64 x and y (regression, hash split)',
      format: 'npz',
      write: async (dir, appended) => put(dir, 'cars.npz', await carsNpz(appended)),
      task: { kind: 'regression', numTargets: 1 },
      inputShape: [4],
      inputDtype: 'float32',
      rows: 398,
      splitMethod: 'hash',
    },
    {
      name: 'npz: Fashion-MNIST u8 images with x_test/y_test',
      format: 'npz',
      write: async (dir, appended) => put(dir, 'fashion.npz', await fashionNpz(appended ? 303 : 300)),
      task: { kind: 'classification', numClasses: 10 },
      inputShape: [28, 28],
      inputDtype: 'uint8',
      rows: 360,
      splitMethod: 'file',
    },
    {
      name: 'images: a zip of PNGs in class folders under one top folder',
      format: 'images',
      write: async (dir, appended) => {
        const files = await imageFiles(300, 'png', false);
        if (appended) {
          const extra = await fashionImages(3, 'train', 1000);
          for (const [i, r] of extra.entries())
            files[`clothes/class-9/zz-${i}.png`] = await encodeImage(r.pixels, 'png');
        }
        return put(dir, 'clothes.zip', zipSync(files, { level: 0 }));
      },
      task: { kind: 'classification', numClasses: 10 },
      inputShape: [28, 28, 1],
      inputDtype: 'uint8',
      rows: 300,
      classNames: Array.from({ length: 10 }, (_, i) => `class-${i}`),
      splitMethod: 'hash',
    },
    {
      name: 'images: a tar.gz of JPEGs under train/ and test/, resized to 16x16',
      format: 'images',
      write: async (dir, appended) => {
        const files = await imageFiles(appended ? 303 : 300, 'jpeg', true);
        return put(dir, 'clothes.tar.gz', await toTar(files, true), { width: 16, height: 16 });
      },
      task: { kind: 'classification', numClasses: 10 },
      inputShape: [16, 16, 1],
      inputDtype: 'uint8',
      rows: 300,
      splitMethod: 'file',
    },
    {
      name: 'idx: a zip of the four gzipped Fashion-MNIST-style files',
      format: 'idx',
      write: async (dir, appended) =>
        put(dir, 'fashion-idx.zip', zipSync(await idxArchive(appended ? 505 : 500, true))),
      task: { kind: 'classification', numClasses: 10 },
      inputShape: [28, 28, 1],
      inputDtype: 'uint8',
      rows: 560,
      splitMethod: 'file',
    },
    {
      name: 'idx: a plain tar of the four uncompressed files',
      format: 'idx',
      write: async (dir, appended) =>
        put(dir, 'fashion-idx.tar', await toTar(await idxArchive(appended ? 505 : 500, false), false)),
      task: { kind: 'classification', numClasses: 10 },
      inputShape: [28, 28, 1],
      inputDtype: 'uint8',
      rows: 560,
      splitMethod: 'file',
    },
  ];
}

export function binaryBadCases(): BadCase[] {
  return [
    {
      name: 'parquet: truncated',
      format: 'parquet',
      write: async (dir) => {
        const bytes = await toParquet(penguins(), PENGUIN_COLUMNS);
        return put(dir, 'cut.parquet', bytes.subarray(0, Math.floor(bytes.length / 2)));
      },
      code: 'INVALID_FORMAT',
      place: /cut\.parquet/,
    },
    {
      name: 'npz: x and y differ in count',
      format: 'npz',
      write: (dir) =>
        put(
          dir,
          'mismatch.npz',
          zipSync({
            'x.npy': npy('<f4', [10, 2], new Float32Array(20)),
            'y.npy': npy('<i8', [9], new BigInt64Array(9)),
          }),
        ),
      code: 'INCONSISTENT_SAMPLES',
      place: /x\.npy and y\.npy differ in count: 10 samples, 9 labels/,
    },
    {
      name: 'npz: NaN in x',
      format: 'npz',
      write: (dir) => {
        const x = new Float32Array(40).map((_, i) => i);
        x[13] = Number.NaN;
        const y = BigInt64Array.from({ length: 20 }, (_, i) => BigInt(i % 2));
        return put(
          dir,
          'nan.npz',
          zipSync({ 'x.npy': npy('<f4', [20, 2], x), 'y.npy': npy('<i8', [20], y) }),
        );
      },
      code: 'NON_FINITE_VALUE',
      place: /x\.npy, sample 6, value 1/,
    },
    {
      name: 'images: a corrupt zip',
      format: 'images',
      write: async (dir) => {
        const zip = zipSync(await imageFiles(20, 'png', false));
        return put(dir, 'corrupt.zip', zip.subarray(0, zip.length - 30));
      },
      code: 'INVALID_FORMAT',
      place: /corrupt\.zip/,
    },
    {
      name: 'images: a truncated tar.gz',
      format: 'images',
      write: async (dir) => {
        const tgz = await toTar(await imageFiles(20, 'png', false), true);
        return put(dir, 'cut.tar.gz', tgz.subarray(0, Math.floor(tgz.length / 2)));
      },
      code: 'INVALID_FORMAT',
      place: /cut\.tar\.gz/,
    },
    {
      name: 'images: an entry with ..',
      format: 'images',
      write: async (dir) => {
        const files = await imageFiles(20, 'png', false);
        files['clothes/../../evil/x.png'] = Object.values(files)[0];
        return put(dir, 'dotdot.zip', zipSync(files));
      },
      code: 'UNSAFE_ARCHIVE_PATH',
      place: /"clothes\/\.\.\/\.\.\/evil\/x\.png"/,
    },
    {
      name: 'images: a zip bomb by ratio',
      format: 'images',
      write: async (dir) => {
        const files = await imageFiles(4, 'png', false);
        files['clothes/class-0/zeros.png'] = new Uint8Array(20 * 1024 * 1024);
        return put(dir, 'bomb.zip', zipSync(files, { level: 9 }));
      },
      code: 'ARCHIVE_TOO_LARGE',
      place: /bomb\.zip.*zeros\.png/,
    },
    {
      name: 'images: an undecodable image',
      format: 'images',
      write: async (dir) => {
        const files = await imageFiles(20, 'png', false);
        files['clothes/class-3/broken.png'] = new TextEncoder().encode('this is not a PNG at all');
        return put(dir, 'broken.zip', zipSync(files));
      },
      code: 'UNDECODABLE_IMAGE',
      place: /"clothes\/class-3\/broken\.png"/,
    },
    {
      name: 'idx: labels and images differ in count',
      format: 'idx',
      write: async (dir) => {
        const files = await idxArchive(50, false);
        files['fashion/train-labels-idx1-ubyte'] = encodeIdx([49], new Uint8Array(49));
        return put(dir, 'idx-mismatch.zip', zipSync(files));
      },
      code: 'INCONSISTENT_SAMPLES',
      place: /train-images-idx3-ubyte has 50 images but its labels file has 49/,
    },
  ];
}
