/**
 * The cases every importer runs (importer.test.ts): good files with the schema, task and counts
 * they must give, and bad files with the error code and the place the message must name. Files
 * are written at test time from real data (test-data.ts) into a temporary folder.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetFormat, ErrorCode, TaskSpec } from '@gridtab/shared';
import type { ImportOptions } from '../importer.ts';
import { CAR_COLUMNS, cars, PENGUIN_COLUMNS, penguins, type Row, toDelimited } from './test-data.ts';

export interface WrittenFile {
  path: string;
  fileName: string;
  options: ImportOptions;
}

export interface GoodCase {
  name: string;
  format: DatasetFormat;
  /** Writes the file; `appended` adds about 1% more rows at the end. */
  write(dir: string, appended?: boolean): Promise<WrittenFile>;
  task: TaskSpec;
  inputShape: number[];
  inputDtype: 'uint8' | 'float32';
  /** Train plus test rows kept. */
  rows: number;
  featureNames?: string[];
  classNames?: string[];
  droppedRows?: number;
  splitMethod: 'file' | 'hash';
}

export interface BadCase {
  name: string;
  format: DatasetFormat;
  write(dir: string): Promise<WrittenFile>;
  code: ErrorCode;
  /** The message must match this (the row, column, entry or file it names). */
  place: RegExp;
}

export const SHARD_SIZE = 16;

export async function put(
  dir: string,
  fileName: string,
  data: string | Uint8Array,
  options: ImportOptions = {},
) {
  const path = join(dir, fileName);
  await writeFile(path, data);
  return { path, fileName, options: { shardSize: SHARD_SIZE, ...options } };
}

/** About 1% more rows: copies of the first rows with a changed numeric value. */
function appendOnePercent(rows: Row[], column: string): Row[] {
  const extra = rows.slice(0, Math.max(2, Math.ceil(rows.length / 100))).map((r) => ({
    ...r,
    [column]: r[column] === null ? null : Number(r[column]) + 0.5,
  }));
  return [...rows, ...extra];
}

const penguinRows = (appended?: boolean) => {
  const rows = penguins().filter((r) => r.Species !== null);
  return appended ? appendOnePercent(rows, 'Body Mass (g)') : rows;
};
const carRows = (appended?: boolean) => (appended ? appendOnePercent(cars(), 'Weight_in_lbs') : cars());

const PENGUIN_FEATURES = [
  'Island=Biscoe',
  'Island=Dream',
  'Island=Torgersen',
  'Beak Length (mm)',
  'Beak Depth (mm)',
  'Flipper Length (mm)',
  'Body Mass (g)',
  'Sex=FEMALE',
  'Sex=MALE',
];

function tabularGood(format: 'csv' | 'tsv', ext: string, sep: string): GoodCase[] {
  return [
    {
      name: `${format}: penguins, categorical island and sex, missing values imputed`,
      format,
      write: (dir, appended) =>
        put(dir, `penguins.${ext}`, toDelimited(penguinRows(appended), PENGUIN_COLUMNS, sep), {
          label: 'Species',
          missing: 'impute',
        }),
      task: { kind: 'classification', numClasses: 3 },
      inputShape: [PENGUIN_FEATURES.length],
      inputDtype: 'float32',
      rows: 344,
      featureNames: PENGUIN_FEATURES,
      classNames: ['Adelie', 'Chinstrap', 'Gentoo'],
      droppedRows: 0,
      splitMethod: 'hash',
    },
    {
      name: `${format}: cars, regression of Miles_per_Gallon (the last column)`,
      format,
      write: (dir, appended) =>
        put(dir, `cars.${ext}`, toDelimited(carRows(appended), CAR_COLUMNS, sep), { missing: 'drop' }),
      task: { kind: 'regression', numTargets: 1 },
      inputShape: [8],
      inputDtype: 'float32',
      rows: 392,
      droppedRows: 6,
      splitMethod: 'hash',
    },
  ];
}

export function goodCases(): GoodCase[] {
  return [...tabularGood('csv', 'csv', ','), ...tabularGood('tsv', 'tsv', '\t')];
}

const csvText = (rows: Row[]) => toDelimited(rows, PENGUIN_COLUMNS);

export function badCases(): BadCase[] {
  const base = () =>
    penguins().filter((r) => r.Species !== null && r.Sex !== null && r['Body Mass (g)'] !== null);
  return [
    {
      name: 'csv: a ragged row',
      format: 'csv',
      write: (dir) => {
        const lines = csvText(base()).split('\n');
        lines[10] += ',extra';
        return put(dir, 'ragged.csv', lines.join('\n'));
      },
      code: 'RAGGED_ROW',
      place: /row 11/,
    },
    {
      name: 'csv: a word in a numeric column',
      format: 'csv',
      write: (dir) => {
        const rows = base();
        rows[20] = { ...rows[20], 'Flipper Length (mm)': 'long' };
        return put(dir, 'word.csv', csvText(rows));
      },
      code: 'NON_NUMERIC',
      place: /row 22, column "Flipper Length \(mm\)"/,
    },
    {
      name: 'csv: Infinity in a numeric column',
      format: 'csv',
      write: (dir) => {
        const rows = base();
        rows[5] = { ...rows[5], 'Beak Depth (mm)': 'Infinity' };
        return put(dir, 'inf.csv', csvText(rows));
      },
      code: 'NON_FINITE_VALUE',
      place: /row 7, column "Beak Depth \(mm\)"/,
    },
    {
      name: 'csv: NaN refused by the refuse policy',
      format: 'csv',
      write: (dir) => {
        const rows = base();
        rows[8] = { ...rows[8], 'Beak Depth (mm)': 'NaN' };
        return put(dir, 'nan.csv', csvText(rows), { missing: 'refuse' });
      },
      code: 'MISSING_VALUE',
      place: /row 10, column "Beak Depth \(mm\)"/,
    },
    {
      name: 'csv: the label column is not in the header',
      format: 'csv',
      write: (dir) => put(dir, 'nolabel.csv', csvText(base()), { label: 'species' }),
      code: 'UNKNOWN_COLUMN',
      place: /"species".*Species/,
    },
    {
      name: 'csv: one class',
      format: 'csv',
      write: (dir) => put(dir, 'one.csv', csvText(base().filter((r) => r.Species === 'Adelie'))),
      code: 'SINGLE_CLASS',
      place: /Adelie/,
    },
    {
      name: 'csv: not UTF-8 (Latin-1 bytes)',
      format: 'csv',
      write: (dir) => {
        const text = new TextEncoder().encode(csvText(base()));
        const bytes = new Uint8Array(text.length + 12);
        bytes.set(text);
        bytes.set([0x44, 0x72, 0x65, 0x61, 0x6d, 0xe9, 0x2c, 0x31, 0x2c, 0x32, 0x2c, 0x0a], text.length);
        return put(dir, 'latin1.csv', bytes);
      },
      code: 'INVALID_FORMAT',
      place: /latin1\.csv: not UTF-8/,
    },
  ];
}
