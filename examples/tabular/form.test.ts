import type { DatasetVersionView } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { fieldsOf, toInputs } from './form.ts';

const cars = {
  schema: {
    featureNames: ['Cylinders', 'Horsepower', 'Origin=USA', 'Origin=Europe', 'Origin=Japan', 'Year'],
    categorical: [{ column: 'Origin', vocabulary: ['USA', 'Europe', 'Japan'] }],
  },
  stats: { features: [{ name: 'Horsepower', mean: 104.4689, std: 38, min: 46, max: 230, missing: 6 }] },
} as unknown as DatasetVersionView;

describe('tabular example form', () => {
  it('makes one field per numeric feature and one select per one-hot column, in input order', () => {
    const fields = fieldsOf(cars, 6);
    expect(fields.map((f) => (f.kind === 'number' ? f.name : `${f.column}?`))).toEqual([
      'Cylinders',
      'Horsepower',
      'Origin?',
      'Year',
    ]);
    expect(fields[1]).toEqual({ kind: 'number', name: 'Horsepower', index: 1, mean: 104.4689 });
  });

  it('turns the form into the input row, one-hot where a value was chosen', () => {
    const fields = fieldsOf(cars, 6);
    const row = toInputs(fields, { Cylinders: '4', Horsepower: '95', Origin: 'Japan', Year: '1975' }, 6);
    expect(Array.from(row)).toEqual([4, 95, 0, 0, 1, 1975]);
  });

  it('names inputs x0.. when the dataset version cannot be read', () => {
    const fields = fieldsOf(null, 3);
    expect(fields.map((f) => f.kind === 'number' && f.name)).toEqual(['x0', 'x1', 'x2']);
    expect(Array.from(toInputs(fields, { x0: '1', x1: '2', x2: '-3' }, 3))).toEqual([1, 2, -3]);
  });
});
