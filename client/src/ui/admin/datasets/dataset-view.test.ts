import type { DatasetVersionView } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { errorText, uploadPath } from './dataset-api.ts';
import {
  classBalance,
  firstFeatures,
  formatStat,
  guessFormat,
  imbalance,
  nameFromFile,
  summary,
} from './dataset-view.ts';

const version = (extra: Partial<DatasetVersionView>) =>
  ({
    task: { kind: 'classification', numClasses: 3 },
    schema: {
      task: { kind: 'classification', numClasses: 3 },
      inputShape: [4],
      inputDtype: 'float32',
      featureNames: ['a', 'b', 'c', 'd'],
      categorical: [],
      labelColumn: 'species',
      classNames: ['setosa', 'versicolor', 'virginica'],
      targetNames: null,
    },
    stats: {
      features: [],
      targets: null,
      classCounts: { train: { virginica: 40, setosa: 10, versicolor: 20 }, test: { setosa: 2, extra: 1 } },
      duplicates: 0,
      droppedRows: 0,
      warnings: [],
    },
    splits: { method: 'hash', seed: 1, testFraction: 0.2, train: 70, test: 3 },
    ...extra,
  }) as DatasetVersionView;

describe('datasets page helpers', () => {
  it('guesses the format from the extension, the longest match winning', () => {
    const cases: [string, string | null][] = [
      ['cars.csv', 'csv'],
      ['Cars.CSV.gz', 'csv'],
      ['x.tsv', 'tsv'],
      ['t.parquet', 'parquet'],
      ['arrays.npz', 'npz'],
      ['pets.tar.gz', 'images'],
      ['pets.zip', 'images'],
      ['train-images-idx3-ubyte.gz', 'idx'],
      ['notes.txt', null],
      ['cars.json', null],
    ];
    for (const [file, format] of cases) expect([file, guessFormat(file)]).toEqual([file, format]);
  });

  it('suggests a valid dataset name from a file name', () => {
    expect(nameFromFile('Cars Data.csv')).toBe('cars-data');
    expect(nameFromFile('__weird__.tar.gz')).toBe('weird__');
    expect(nameFromFile('train-images-idx3-ubyte.gz')).toBe('train-images-idx3-ubyte');
  });

  it('lists classes in the schema order, then names only the counts hold', () => {
    const bars = classBalance(version({}));
    expect(bars).toEqual([
      { name: 'setosa', train: 10, test: 2 },
      { name: 'versicolor', train: 20, test: 0 },
      { name: 'virginica', train: 40, test: 0 },
      { name: 'extra', train: 0, test: 1 },
    ]);
    expect(imbalance(bars)).toBe(4);
    const regression = version({ stats: { ...version({}).stats, classCounts: null } });
    expect(classBalance(regression)).toEqual([]);
    expect(imbalance([])).toBeNull();
  });

  it('summarizes a version and reads numbers plainly', () => {
    expect(summary(version({}))).toBe(
      'classification, 3 classes · input 4 (float32) · 70 train / 3 test rows · label species',
    );
    expect(firstFeatures(version({}), 3)).toEqual({ names: ['a', 'b', 'c'], more: 1 });
    expect([
      formatStat(1234.5678),
      formatStat(0.00001),
      formatStat(2e7),
      formatStat(null),
      formatStat(0),
    ]).toEqual(['1235', '1.00e-5', '2.00e+7', '—', '0']);
  });

  it('builds the upload query and reads error bodies', () => {
    expect(
      uploadPath({
        name: ' cars ',
        format: 'csv',
        label: 'Miles_per_Gallon',
        task: 'regression',
        missing: 'drop',
        fileName: 'cars.csv',
      }),
    ).toBe(
      '/api/datasets/cars/versions?format=csv&label=Miles_per_Gallon&task=regression&missing=drop&fileName=cars.csv',
    );
    expect(uploadPath({ name: 'pets', format: 'images', label: ' ', task: '' })).toBe(
      '/api/datasets/pets/versions?format=images',
    );
    expect(
      errorText(409, 'Conflict', '{"error":{"code":"DATASET_IN_USE","message":"job j-1 trained on it"}}'),
    ).toBe('DATASET_IN_USE: job j-1 trained on it');
    expect(errorText(502, 'Bad Gateway', '<html>')).toBe('HTTP 502 Bad Gateway');
  });
});
