/**
 * IDX importer: a zip or tar (maybe gzipped) of the four MNIST-style files (train-images,
 * train-labels, t10k-images or test-images, t10k-labels or test-labels; each gzipped or not),
 * parsed by ../idx.ts. The files give the split. An IDX file has no streaming layout worth the
 * trouble (the largest, 60k 28x28 images, is 47 MB), so each is read whole, one at a time.
 */
import { open } from 'node:fs/promises';
import { GridTabError } from '@gridtab/shared';
import { type IdxArray, parseIdx } from '../idx.ts';
import type { Importer } from '../importer.ts';
import { type ArchiveEntry, tarEntries, zipEntries } from './archive.ts';
import { type Split, VersionBuilder } from './version-builder.ts';

const ROLES = {
  trainImages: /(^|\/)train-images[^/]*$/,
  trainLabels: /(^|\/)train-labels[^/]*$/,
  testImages: /(^|\/)(t10k|test)-images[^/]*$/,
  testLabels: /(^|\/)(t10k|test)-labels[^/]*$/,
} as const;
type Role = keyof typeof ROLES;

async function collectFiles(
  path: string,
  fileName: string,
): Promise<Partial<Record<Role, { name: string; data: IdxArray }>>> {
  const head = Buffer.alloc(2);
  const h = await open(path, 'r');
  await h.read(head, 0, 2, 0);
  await h.close();
  const found: Partial<Record<Role, { name: string; data: IdxArray }>> = {};
  const take = async (e: ArchiveEntry) => {
    const role = (Object.keys(ROLES) as Role[]).find((r) => ROLES[r].test(e.name));
    if (!role) return;
    try {
      found[role] = { name: e.name, data: parseIdx(new Uint8Array(await e.read())) };
    } catch (err) {
      if (err instanceof GridTabError) throw err;
      throw new GridTabError('INVALID_FORMAT', `${fileName}: entry "${e.name}": ${(err as Error).message}`);
    }
  };
  if (head[0] === 0x50 && head[1] === 0x4b) {
    const zip = await zipEntries(path, fileName);
    try {
      for (const e of zip.entries) await take(e);
    } finally {
      zip.close();
    }
  } else for await (const e of tarEntries(path, fileName)) await take(e);
  return found;
}

export const importIdx: Importer = async (input, deps) => {
  const { fileName, options } = input;
  const files = await collectFiles(input.path, fileName);
  const missing = (Object.keys(ROLES) as Role[]).filter((r) => !files[r]);
  if (missing.length > 0) {
    throw new GridTabError(
      missing.some((m) => m.endsWith('Labels')) && missing.length < 4 ? 'MISSING_LABEL' : 'INVALID_FORMAT',
      `${fileName}: no ${missing.join(', ')} file (expected train-images, train-labels, t10k-images, t10k-labels)`,
    );
  }
  const pairs: { images: IdxArray; labels: IdxArray; split: Split; name: string }[] = [
    {
      images: files.trainImages!.data,
      labels: files.trainLabels!.data,
      split: 'train',
      name: files.trainImages!.name,
    },
    {
      images: files.testImages!.data,
      labels: files.testLabels!.data,
      split: 'test',
      name: files.testImages!.name,
    },
  ];
  const shape = pairs[0].images.shape.slice(1);
  for (const p of pairs) {
    if (p.labels.shape.length !== 1 || p.images.shape[0] !== p.labels.shape[0]) {
      throw new GridTabError(
        'INCONSISTENT_SAMPLES',
        `${fileName}: ${p.name} has ${p.images.shape[0]} images but its labels file has ${p.labels.shape[0]}`,
      );
    }
    if (p.images.shape.slice(1).join() !== shape.join()) {
      throw new GridTabError('INCONSISTENT_SAMPLES', `${fileName}: train and test images differ in shape`);
    }
  }
  let top = 0;
  for (const p of pairs) for (const l of p.labels.data) if (l > top) top = l;
  const sampleSize = shape.reduce((a, b) => a * b, 1);
  const builder = new VersionBuilder(
    {
      inputShape: shape.length === 2 ? [...shape, 1] : shape,
      inputDtype: 'uint8',
      labels: { kind: 'classification', classNames: Array.from({ length: top + 1 }, (_, i) => String(i)) },
      featureNames: null,
      labelColumn: 'labels',
      normalize: 'pixels',
      fileSplit: true,
      shardSize: options.shardSize,
    },
    deps,
  );
  return builder.buildFrom(async () => {
    for (const p of pairs) {
      for (let i = 0; i < p.labels.data.length; i++) {
        const pending = builder.add(
          p.images.data.subarray(i * sampleSize, (i + 1) * sampleSize),
          p.labels.data[i],
          p.split,
        );
        if (pending) await pending;
      }
    }
  });
};
