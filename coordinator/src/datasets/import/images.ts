/**
 * Image-folder importer: a zip or a tar (.tar, .tar.gz) with one folder per class, maybe under
 * one top folder, maybe under train/ and test/ folders that give the split. PNG and JPEG are
 * decoded and resized by sharp (libvips: fast, maintained, and it refuses corrupt images with a
 * clear error). Decoding runs two images a core at a time, but rows are added in a fixed order
 * (sorted names for a zip, archive order for a tar) so the same archive gives the same shards.
 */
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { GridTabError } from '@gridtab/shared';
import sharp, { type Metadata } from 'sharp';
import type { Importer, ImportOptions } from '../importer.ts';
import { type ArchiveEntry, tarEntries, zipEntries } from './archive.ts';
import { type Split, VersionBuilder } from './version-builder.ts';

const IMAGE = /\.(png|jpe?g)$/i;
/** Decodes in flight: libvips runs each on its own thread, so two per core keeps them busy. */
const CONCURRENCY = Math.max(4, availableParallelism() * 2);

// An import decodes each image once, so libvips' operation cache (50 MB by default) could
// never hit: it only held memory. And with CONCURRENCY decodes in flight, each on its own
// libuv thread, libvips' own threads per image (one per core by default, each with its
// buffers) add memory on a many-core host and nothing for images this small. sharp is used
// only here in the coordinator, so these process-wide settings touch nothing else.
sharp.cache(false);
sharp.concurrency(1);

interface Layout {
  classNames: string[];
  fileSplit: boolean;
  /** Class index and split of an image entry, or null for a file outside the layout. */
  place(name: string): { label: number; split: Split | undefined } | null;
}

/** Reads the folder layout from the image entries' names. */
export function layoutOf(fileName: string, names: string[]): Layout {
  const images = names.filter(
    (n) => IMAGE.test(n) && !n.split('/').some((s) => s.startsWith('.') || s === '__MACOSX'),
  );
  if (images.length === 0) throw new GridTabError('EMPTY_DATASET', `${fileName}: no PNG or JPEG images`);
  let depth = 0;
  const parts = images.map((n) => n.split('/'));
  // Strip one shared top folder (an archive of a folder), but never train/ or test/.
  while (
    parts.every((p) => p.length - depth >= 3 && p[depth] === parts[0][depth]) &&
    !['train', 'test'].includes(parts[0][depth].toLowerCase())
  )
    depth++;
  const top = new Set(parts.map((p) => p[depth].toLowerCase()));
  const fileSplit =
    [...top].every((t) => t === 'train' || t === 'test') && parts.every((p) => p.length - depth >= 3);
  const classAt = depth + (fileSplit ? 1 : 0);
  const classes = [...new Set(parts.filter((p) => p.length - classAt >= 2).map((p) => p[classAt]))].sort();
  if (classes.length === 0)
    throw new GridTabError('EMPTY_DATASET', `${fileName}: images must sit in one folder per class`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return {
    classNames: classes,
    fileSplit,
    place(name) {
      if (!IMAGE.test(name)) return null;
      const p = name.split('/');
      if (p.some((s) => s.startsWith('.') || s === '__MACOSX') || p.length - classAt < 2) return null;
      const label = index.get(p[classAt]);
      if (label === undefined) return null;
      return { label, split: fileSplit ? (p[depth].toLowerCase() === 'test' ? 'test' : 'train') : undefined };
    },
  };
}

async function isZip(path: string): Promise<boolean> {
  const h = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    await h.read(b, 0, 4, 0);
    return b[0] === 0x50 && b[1] === 0x4b;
  } finally {
    await h.close();
  }
}

/** The archive's entries in a fixed order, with a close for the zip. */
async function entriesOf(
  path: string,
  fileName: string,
): Promise<{ entries: AsyncIterable<ArchiveEntry>; close(): void }> {
  if (await isZip(path)) {
    const zip = await zipEntries(path, fileName);
    return {
      entries: (async function* () {
        yield* zip.entries;
      })(),
      close: zip.close,
    };
  }
  return { entries: tarEntries(path, fileName), close: () => {} };
}

interface Size {
  width: number;
  height: number;
  channels: 1 | 3;
}

/** Raw pixels of `bytes` in `size`'s channels, resized only when `resize` says so. */
function pixels(bytes: Uint8Array, size: Size, resize: boolean) {
  let img = sharp(bytes, { failOn: 'error' });
  if (resize) img = img.resize(size.width, size.height, { fit: 'fill' });
  img = size.channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
  return img.raw().toBuffer({ resolveWithObject: true });
}

async function decode(entry: ArchiveEntry, fileName: string, size: Size): Promise<Uint8Array> {
  try {
    const bytes = await entry.read();
    // Most archives hold images of one size: decode as is (a resize to the same size still
    // costs a libvips pass), and resize only an image that turns out to differ.
    let { data, info } = await pixels(bytes, size, false);
    if (info.width !== size.width || info.height !== size.height)
      ({ data, info } = await pixels(bytes, size, true));
    if (info.channels !== size.channels)
      throw new Error(`decoded to ${info.channels} channels, not ${size.channels}`);
    return data;
  } catch (e) {
    if (e instanceof GridTabError) throw e;
    throw new GridTabError(
      'UNDECODABLE_IMAGE',
      `${fileName}: entry "${entry.name}" is not a decodable PNG or JPEG (${(e as Error).message})`,
    );
  }
}

async function sizeOf(entry: ArchiveEntry, fileName: string, options: ImportOptions): Promise<Size> {
  let meta: Metadata;
  try {
    meta = await sharp(await entry.read()).metadata();
  } catch (e) {
    throw new GridTabError(
      'UNDECODABLE_IMAGE',
      `${fileName}: entry "${entry.name}" is not a decodable PNG or JPEG (${(e as Error).message})`,
    );
  }
  return {
    width: options.width ?? meta.width ?? 0,
    height: options.height ?? meta.height ?? 0,
    channels: options.channels ?? ((meta.channels ?? 1) <= 2 ? 1 : 3),
  };
}

export const importImages: Importer = async (input, deps) => {
  const { options, fileName, path } = input;
  // Pass 1: names only, for the class folders (a tar cannot be listed without reading it).
  const names: string[] = [];
  const first = await entriesOf(path, fileName);
  try {
    for await (const e of first.entries) names.push(e.name);
  } finally {
    first.close();
  }
  const layout = layoutOf(fileName, names);
  const bytesTotal = (await stat(path)).size;
  let bytesRead = 0;
  const second = await entriesOf(path, fileName);
  let builder: VersionBuilder | null = null;
  try {
    let size: Size | null = null;
    // Decodes in flight, oldest first: rows are added in entry order whatever finishes first.
    const inflight: { pixels: Promise<Uint8Array>; label: number; split: Split | undefined }[] = [];
    const drain = async () => {
      const next = inflight.shift()!;
      const pending = builder!.add(await next.pixels, next.label, next.split);
      if (pending) await pending;
    };
    for await (const entry of second.entries) {
      bytesRead += entry.size;
      const place = layout.place(entry.name);
      if (!place) continue;
      if (!size) {
        size = await sizeOf(entry, fileName, options);
        builder = new VersionBuilder(
          {
            inputShape: [size.height, size.width, size.channels],
            inputDtype: 'uint8',
            labels: { kind: 'classification', classNames: layout.classNames },
            featureNames: null,
            labelColumn: 'folder',
            normalize: 'pixels',
            fileSplit: layout.fileSplit,
            shardSize: options.shardSize,
            seed: options.seed,
            testFraction: options.testFraction,
            bytesRead: () => bytesRead,
            bytesTotal,
          },
          deps,
        );
      }
      const pixels = decode(entry, fileName, size);
      pixels.catch(() => {});
      inflight.push({ pixels, ...place });
      if (inflight.length >= CONCURRENCY) await drain();
    }
    while (inflight.length > 0) await drain();
    if (!builder) throw new GridTabError('EMPTY_DATASET', `${fileName}: no images in class folders`);
    return await builder.finish();
  } catch (e) {
    // Let the shard writes already started land in the store before the failure is handled.
    await builder?.settled();
    throw e;
  } finally {
    second.close();
  }
};
