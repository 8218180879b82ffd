/**
 * Entries of an uploaded archive (zip through yauzl over a windowed reader (zip-reader.ts), tar and tar.gz through tar-stream and
 * zlib), with the checks an upload needs before anything is decoded: no absolute path or `..`
 * in a name, and an uncompressed total under a size cap and a ratio cap (zip bombs). A zip's
 * central directory gives every size up front, so a zip is refused before any entry is read;
 * a tar is checked as its headers stream by. yauzl also checks each entry's real size against
 * its declared one, so a lying header cannot slip past the cap.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GridTabError } from '@gridtab/shared';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { WindowedReader } from './zip-reader.ts';

export interface ArchiveLimits {
  /** Uncompressed bytes in all (default 4 GiB). */
  maxBytes?: number;
  /** Uncompressed bytes per archive byte (default 200). */
  maxRatio?: number;
}

export interface ArchiveEntry {
  /** The entry's path inside the archive, `/`-separated. */
  name: string;
  size: number;
  read(): Promise<Buffer>;
}

export interface ZipEntry extends ArchiveEntry {
  /** The entry's bytes as a stream, for entries too large to hold (an NPZ's arrays). */
  stream(): Promise<Readable>;
}

const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
const DEFAULT_MAX_RATIO = 200;

export function checkEntryName(fileName: string, name: string): void {
  const parts = name.split(/[\\/]/);
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name) || parts.includes('..')) {
    throw new GridTabError(
      'UNSAFE_ARCHIVE_PATH',
      `${fileName}: entry "${name}" has an absolute path or ".."`,
    );
  }
}

class SizeCap {
  private total = 0;
  private readonly max: number;
  constructor(
    private readonly fileName: string,
    archiveBytes: number,
    limits: ArchiveLimits,
  ) {
    this.max = Math.min(
      limits.maxBytes ?? DEFAULT_MAX_BYTES,
      (limits.maxRatio ?? DEFAULT_MAX_RATIO) * archiveBytes,
    );
  }
  add(bytes: number, entry: string): void {
    this.total += bytes;
    if (this.total > this.max) {
      throw new GridTabError(
        'ARCHIVE_TOO_LARGE',
        `${this.fileName}: expands past ${this.max} bytes (at entry "${entry}"); the cap is the smaller of the size cap and the ratio cap`,
      );
    }
  }
}

function corrupt(fileName: string, kind: string, e: unknown): GridTabError {
  if (e instanceof GridTabError) return e;
  return new GridTabError('INVALID_FORMAT', `${fileName}: not a readable ${kind} (${(e as Error).message})`);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A zip's file entries, sorted by name (a deterministic order for reproducible shards). */
export async function zipEntries(
  path: string,
  fileName: string,
  limits: ArchiveLimits = {},
): Promise<{
  entries: ZipEntry[];
  close(): void;
}> {
  const size = (await stat(path)).size;
  const reader = await WindowedReader.open(path);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    // decodeStrings off: yauzl would refuse unsafe names with its own message; we name the code.
    yauzl.fromRandomAccessReader(
      reader,
      reader.size,
      { lazyEntries: true, autoClose: false, decodeStrings: false },
      (err, z) => {
        if (!err) return resolve(z);
        reader.close(() => {});
        reject(corrupt(fileName, 'zip', err));
      },
    ),
  );
  const raw: yauzl.Entry[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        raw.push(e);
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', (e) => reject(corrupt(fileName, 'zip', e)));
      zip.readEntry();
    });
  } catch (e) {
    zip.close();
    throw e;
  }
  const cap = new SizeCap(fileName, size, limits);
  const entries: ZipEntry[] = [];
  try {
    for (const e of raw) {
      const name = (e.fileName as unknown as Buffer).toString('utf8');
      checkEntryName(fileName, name);
      if (name.endsWith('/')) continue;
      cap.add(e.uncompressedSize, name);
      const stream = () =>
        new Promise<Readable>((resolve, reject) =>
          zip.openReadStream(e, (err, s) => (err ? reject(corrupt(fileName, 'zip', err)) : resolve(s))),
        );
      entries.push({
        name,
        size: e.uncompressedSize,
        stream,
        read: () =>
          stream()
            .then(collect)
            .catch((err) => {
              throw corrupt(fileName, `zip (entry "${name}")`, err);
            }),
      });
    }
  } catch (e) {
    zip.close();
    throw e;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // A stream destroyed mid-entry (an import refused halfway) may still have a read in flight;
  // closing the zip under it would crash the process, so the close waits for open streams.
  let open = 0;
  let closing = false;
  const closeIfIdle = () => {
    if (closing && open === 0 && zip.isOpen) zip.close();
  };
  for (const e of entries) {
    const raw = e.stream;
    e.stream = async () => {
      const s = await raw();
      open++;
      s.once('close', () => {
        open--;
        setImmediate(closeIfIdle);
      });
      return s;
    };
    e.read = () =>
      e
        .stream()
        .then(collect)
        .catch((err) => {
          throw corrupt(fileName, `zip (entry "${e.name}")`, err);
        });
  }
  return {
    entries,
    close: () => {
      closing = true;
      closeIfIdle();
    },
  };
}

/**
 * A tar's (or tar.gz's, detected by its magic bytes) file entries in archive order, each read
 * before the next is offered: the archive is one stream, so memory holds one entry at a time.
 */
export async function* tarEntries(
  path: string,
  fileName: string,
  limits: ArchiveLimits = {},
): AsyncGenerator<ArchiveEntry> {
  const size = (await stat(path)).size;
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(path, { start: 0, end: 1 });
    collect(s).then(resolve, reject);
  });
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  const extract = tar.extract();
  const cap = new SizeCap(fileName, size, limits);
  // A one-slot channel between tar-stream's callbacks and this generator.
  type Item = { entry: ArchiveEntry; next: () => void } | { done: true } | { error: unknown };
  const queue: Item[] = [];
  let wake: (() => void) | null = null;
  const push = (i: Item) => {
    queue.push(i);
    wake?.();
  };
  extract.on('entry', (header, stream, next) => {
    try {
      checkEntryName(fileName, header.name);
      if (header.type !== 'file') {
        stream.resume();
        stream.on('end', next);
        return;
      }
      cap.add(header.size ?? 0, header.name);
    } catch (e) {
      push({ error: e });
      return;
    }
    const body = collect(stream);
    body.catch(() => {});
    push({
      entry: { name: header.name.replace(/^\.\//, ''), size: header.size ?? 0, read: () => body },
      next,
    });
  });
  extract.on('finish', () => push({ done: true }));
  // A stream cut mid-entry never ends that entry's body: a failure must also wake its reader.
  let failWith: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failWith = reject;
  });
  failed.catch(() => {});
  const fail = (kind: string) => (e: unknown) => {
    const err = corrupt(fileName, kind, e);
    push({ error: err });
    failWith(err);
  };
  extract.on('error', fail('tar'));
  source.on('error', fail('file'));
  if (gz) {
    const gunzip = createGunzip();
    gunzip.on('error', fail('gzip stream (truncated or corrupt)'));
    source.pipe(gunzip).pipe(extract);
  } else source.pipe(extract);
  try {
    while (true) {
      if (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      const item = queue.shift()!;
      if ('done' in item) return;
      if ('error' in item) throw item.error;
      try {
        await Promise.race([item.entry.read(), failed]);
      } catch (e) {
        throw corrupt(fileName, 'tar', e);
      }
      yield item.entry;
      item.next();
    }
  } finally {
    source.destroy();
    extract.destroy();
  }
}
