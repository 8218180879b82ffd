/**
 * Parquet importer on hyparquet (a maintained pure-JS reader; hyparquet-compressors adds
 * snappy, gzip, brotli, zstd and lz4). The file is read through an AsyncBuffer backed by
 * positioned reads of the file on disk, one row group at a time, so memory holds one row group
 * and never the file. Columns go through the same profile and plan as CSV (tabular.ts).
 */
import { open } from 'node:fs/promises';
import { GridTabError } from '@gridtab/shared';
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Importer, ImportInput } from '../importer.ts';
import { TableProfiler, tableSetup } from './tabular.ts';
import { cancelled, VersionBuilder } from './version-builder.ts';

type FileHandle = Awaited<ReturnType<typeof open>>;

/** Positioned reads of the file, counting the bytes read for progress. */
function fileBuffer(handle: FileHandle, size: number, counter: { bytes: number }): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number) {
      const stop = Math.min(end ?? size, size);
      const out = new Uint8Array(Math.max(0, stop - start));
      const { bytesRead } = await handle.read(out, 0, out.length, start);
      counter.bytes += bytesRead;
      return out.buffer.slice(0, bytesRead);
    },
  };
}

function invalid(input: ImportInput, e: unknown): GridTabError {
  if (e instanceof GridTabError) return e;
  return new GridTabError(
    'INVALID_FORMAT',
    `${input.fileName}: not a readable Parquet file (${(e as Error).message})`,
  );
}

/** Yields every row group's rows (as arrays in schema column order) with their first row number. */
async function* rowGroups(
  input: ImportInput,
  file: AsyncBuffer,
  meta: FileMetaData,
  signal?: AbortSignal,
): AsyncGenerator<{ rows: unknown[][]; first: number }> {
  let start = 0;
  for (const group of meta.row_groups) {
    if (signal?.aborted) throw cancelled();
    const end = start + Number(group.num_rows);
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file,
        metadata: meta,
        compressors,
        rowStart: start,
        rowEnd: end,
        onComplete: (r: unknown[][]) => {
          rows = r;
        },
      });
    } catch (e) {
      throw invalid(input, e);
    }
    yield { rows, first: start };
    start = end;
  }
}

export const importParquet: Importer = async (input, deps) => {
  const { options, fileName } = input;
  const handle = await open(input.path, 'r');
  try {
    const size = (await handle.stat()).size;
    const counter = { bytes: 0 };
    const file = fileBuffer(handle, size, counter);
    let meta: FileMetaData;
    try {
      meta = await parquetMetadataAsync(file);
    } catch (e) {
      throw invalid(input, e);
    }
    const header = parquetSchema(meta).children.map((c) => c.element.name);
    const profiler = new TableProfiler(header, options, fileName);
    try {
      for await (const { rows, first } of rowGroups(input, file, meta, deps.signal)) {
        rows.forEach((row, i) => {
          profiler.observe(row, first + i + 2);
        });
      }
      const plan = profiler.plan();
      const builder = new VersionBuilder(
        tableSetup(plan, options, { bytesRead: () => counter.bytes, bytesTotal: size }),
        deps,
      );
      return await builder.buildFrom(() => plan.replay(builder));
    } finally {
      profiler.close();
    }
  } finally {
    await handle.close();
  }
};
