/**
 * The importers by format, and importFile: the one entry the registry calls. The table is a
 * Record over DatasetFormat, so a new format does not compile until it has an importer.
 */
import type { DatasetFormat } from '@gridtab/shared';
import type { ImportDeps, ImportedContent, Importer, ImportInput } from '../importer.ts';
import { importCsv } from './csv.ts';
import { importIdx } from './idx.ts';
import { importImages } from './images.ts';
import { importNpz } from './npz.ts';
import { importParquet } from './parquet.ts';

export const IMPORTERS: Record<DatasetFormat, Importer> = {
  csv: importCsv,
  tsv: importCsv,
  parquet: importParquet,
  npz: importNpz,
  images: importImages,
  idx: importIdx,
};

export function importFile(input: ImportInput, deps: ImportDeps): Promise<ImportedContent> {
  return IMPORTERS[input.format](input, deps);
}
