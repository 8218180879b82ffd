/**
 * A CSV or TSV file parsed in segments on several threads (csv-segments.ts) must give the
 * version a parse in order gives, bit for bit, and refuse a bad file with the same code and
 * message. Small files are cut small here (minSegmentBytes) so every case runs through threads.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GridTabError } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../storage/blob-store.ts';
import type { ImportInput } from '../importer.ts';
import { profileInSegments } from './csv.ts';
import { planSegments } from './csv-segments.ts';
import { goodCases, put } from './importer.case.ts';
import { importFile } from './index.ts';
import { PENGUIN_COLUMNS, penguins, type Row, toDelimited } from './test-data.ts';

let dir: string;
let blobs: FileBlobStore;
const IN_ORDER = { threads: 1 };
const CUT_SMALL = { threads: 3, minSegmentBytes: 1 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridtab-segments-test-'));
  blobs = await FileBlobStore.open(join(dir, 'blobs'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Whether the threads' parse went through (true) or fell back to a parse in order (false). */
async function parsedInSegments(input: ImportInput): Promise<boolean> {
  const size = (await stat(input.path)).size;
  const plan = await planSegments(input.path, size, CUT_SMALL);
  if (!plan) return false;
  const spools = await mkdtemp(join(dir, 'spools-'));
  try {
    const profiler = await profileInSegments(input, { blobs }, plan, spools, { bytes: 0 }, size);
    profiler?.close();
    return profiler !== null;
  } finally {
    await rm(spools, { recursive: true, force: true });
  }
}

async function both(input: ImportInput) {
  const settle = (p: Promise<unknown>) =>
    p.then(
      (v) => ({ v }),
      (e: unknown) => ({ e }),
    );
  return {
    inOrder: await settle(importFile(input, { blobs, parallelism: IN_ORDER })),
    inSegments: await settle(importFile(input, { blobs, parallelism: CUT_SMALL })),
  };
}

describe.each(goodCases())('$name', (c) => {
  it('gives the version a parse in order gives, parsed on three threads', async () => {
    const input = { ...(await c.write(dir)), format: c.format };
    expect(await parsedInSegments(input)).toBe(true);
    const { inOrder, inSegments } = await both(input);
    expect('v' in inOrder).toBe(true);
    expect(inSegments).toEqual(inOrder);
  });
});

const penguinCsv = (edit?: (rows: ReturnType<typeof penguins>) => void) => {
  const rows = penguins();
  edit?.(rows);
  return toDelimited(rows, PENGUIN_COLUMNS);
};

describe('a bad value in a later segment', () => {
  const cases: [string, (rows: ReturnType<typeof penguins>) => void, string][] = [
    [
      'a word',
      (rows) => {
        rows[300]['Flipper Length (mm)'] = 'long';
      },
      'NON_NUMERIC',
    ],
    [
      'Infinity',
      (rows) => {
        rows[250]['Beak Depth (mm)'] = 'Infinity';
      },
      'NON_FINITE_VALUE',
    ],
  ];
  it.each(cases)('%s is refused with the place a parse in order names', async (_, edit, code) => {
    const file = await put(dir, 'late.csv', penguinCsv(edit), { label: 'Species', missing: 'impute' });
    const input = { ...file, format: 'csv' as const };
    expect(await parsedInSegments(input)).toBe(true);
    const { inOrder, inSegments } = await both(input);
    expect((inOrder as { e: GridTabError }).e.code).toBe(code);
    expect(inSegments).toEqual(inOrder);
  });

  it('a missing value refused by the policy names its row', async () => {
    const file = await put(dir, 'missing.csv', penguinCsv(), { label: 'Species', missing: 'refuse' });
    const { inOrder, inSegments } = await both({ ...file, format: 'csv' });
    expect((inOrder as { e: GridTabError }).e.code).toBe('MISSING_VALUE');
    expect(inSegments).toEqual(inOrder);
  });
});

describe('files the threads cannot read alone fall back to a parse in order', () => {
  it('a ragged row in a later segment: the same error and row', async () => {
    const lines = penguinCsv().split('\n');
    lines[300] += ',extra';
    const input = { ...(await put(dir, 'ragged.csv', lines.join('\n'))), format: 'csv' as const };
    expect(await parsedInSegments(input)).toBe(false);
    const { inOrder, inSegments } = await both(input);
    expect((inOrder as { e: GridTabError }).e.code).toBe('RAGGED_ROW');
    expect(inSegments).toEqual(inOrder);
  });

  // Line breaks in every island name: most line ends are inside quotes, so cuts land there.
  // In the first two rows only: before the first cut, so the threads' parse goes through.
  it.each([
    ['every row', 344, false],
    ['the first two rows', 2, true],
  ])('quoted line breaks in %s: the same version (parsed on threads: %s)', async (_, rowsWith, threads) => {
    const island = (r: Row, i: number) => (i < rowsWith ? `${r.Island}\n\n\n\n\nsite ${i % 3}` : r.Island);
    const rows = penguins().map((r, i) => ({ ...r, Island: island(r, i) }));
    const file = await put(dir, `multiline${rowsWith}.csv`, toDelimited(rows, PENGUIN_COLUMNS), {
      label: 'Species',
      missing: 'drop',
    });
    const input = { ...file, format: 'csv' as const };
    expect(await parsedInSegments(input)).toBe(threads);
    const { inOrder, inSegments } = await both(input);
    expect('v' in inOrder).toBe(true);
    expect(inSegments).toEqual(inOrder);
  });
});

describe('planSegments', () => {
  it('cuts a CRLF file after whole line ends, and it imports as in order', async () => {
    const text = penguinCsv().replaceAll('\n', '\r\n');
    const file = await put(dir, 'crlf.csv', text, { label: 'Species', missing: 'drop' });
    const plan = await planSegments(file.path, text.length, CUT_SMALL);
    expect(plan?.threads).toBe(3);
    expect(plan!.ranges.length).toBeGreaterThan(3);
    const bytes = await readFile(file.path);
    for (const r of plan!.ranges.slice(1)) {
      expect(r.recordDelimiter).toBe('\r\n');
      expect([bytes[r.start - 2], bytes[r.start - 1]]).toEqual([0x0d, 0x0a]);
    }
    const input = { ...file, format: 'csv' as const };
    expect(await parsedInSegments(input)).toBe(true);
    const { inOrder, inSegments } = await both(input);
    expect('v' in inOrder).toBe(true);
    expect(inSegments).toEqual(inOrder);
  });

  it('keeps a file in one piece when it is small, or its header is quoted or has no line end', async () => {
    const small = await put(dir, 'small.csv', penguinCsv());
    expect(await planSegments(small.path, (await stat(small.path)).size, { threads: 4 })).toBeNull();
    const quoted = join(dir, 'quoted.csv');
    await writeFile(quoted, `"a",b\n${'1,2\n'.repeat(100)}`);
    expect(await planSegments(quoted, (await stat(quoted)).size, CUT_SMALL)).toBeNull();
    const oneLine = join(dir, 'oneline.csv');
    await writeFile(oneLine, 'a,b');
    expect(await planSegments(oneLine, 3, CUT_SMALL)).toBeNull();
    expect(await planSegments(small.path, (await stat(small.path)).size, IN_ORDER)).toBeNull();
  });
});

describe('a cancelled import parsed in segments', () => {
  it('is refused as cancelled and leaves no spool behind', async () => {
    const spoolDirs = async () =>
      (await readdir(tmpdir())).filter((n) => n.startsWith('gridtab-segments-')).length;
    const before = await spoolDirs();
    const file = await put(dir, 'cancel.csv', penguinCsv(), { label: 'Species', missing: 'drop' });
    const err = await importFile(
      { ...file, format: 'csv' },
      { blobs, parallelism: CUT_SMALL, signal: AbortSignal.abort() },
    ).catch((e: unknown) => e);
    expect((err as GridTabError).code).toBe('BAD_REQUEST');
    expect((err as GridTabError).message).toMatch(/cancelled/);
    expect(await spoolDirs()).toBe(before);
  });
});
