/**
 * What a dataset version tells the rest of the coordinator: the data spec a unit carries, and
 * the upgrade of dataset records written before datasets had versions (Fashion-MNIST imported
 * as one u8 image set with `inputShape`, `numClasses` and a single `testHash`).
 */
import {
  type DataSpec,
  PIXEL_NORMALIZATION,
  parseDatasetRef,
  type RegressionLoss,
  sha256Hex,
} from '@gridtab/shared';
import type { DatasetRecord, Store } from '../storage/store.ts';

export function dataSpecOf(dataset: DatasetRecord, loss: RegressionLoss = 'mse'): DataSpec {
  return {
    dataset: dataset.id,
    task: dataset.schema.task,
    inputShape: dataset.schema.inputShape,
    normalization: dataset.normalization,
    loss,
  };
}

/** Output units a model for the version must have (classes, or regression targets). */
export function outputsOf(dataset: DatasetRecord): number {
  const t = dataset.schema.task;
  return t.kind === 'classification' ? t.numClasses : t.numTargets;
}

/** A stored record as read back; records from before versioned datasets are upgraded in place. */
export function upgradeDatasetRecord(r: Record<string, unknown>): DatasetRecord {
  if (r.schema) return r as unknown as DatasetRecord;
  const numClasses = r.numClasses as number;
  const inputShape = r.inputShape as number[];
  const classNames = Array.from({ length: numClasses }, (_, i) => String(i));
  return {
    id: r.id as string,
    name: r.id as string,
    version: 1,
    hash: (r.testHash as string) ?? '',
    schema: {
      task: { kind: 'classification', numClasses },
      inputShape,
      inputDtype: 'uint8',
      featureNames: null,
      categorical: [],
      labelColumn: null,
      classNames,
      targetNames: null,
    },
    stats: { features: [], targets: null, classCounts: null, duplicates: 0, droppedRows: 0, warnings: [] },
    splits: {
      method: 'file',
      seed: null,
      testFraction: null,
      train: r.numTrain as number,
      test: r.numTest as number,
    },
    normalization: PIXEL_NORMALIZATION,
    source: null,
    parent: null,
    numTrain: r.numTrain as number,
    numTest: r.numTest as number,
    shardSize: r.shardSize as number,
    shardHashes: r.shardHashes as string[],
    testHashes: [r.testHash as string],
    bytes: 0,
    createdAt: r.createdAt as string,
  };
}

/**
 * A version's content hash: the same rows, schema, splits and normalization give the same hash
 * (and so the same version on re-import), whatever the file they came from.
 */
export async function versionHash(content: {
  schema: DatasetRecord['schema'];
  normalization: DatasetRecord['normalization'];
  splits: DatasetRecord['splits'];
  shardHashes: string[];
  testHashes: string[];
}): Promise<string> {
  const { schema, normalization, splits, shardHashes, testHashes } = content;
  const canonical = JSON.stringify({ schema, normalization, splits, shardHashes, testHashes });
  return sha256Hex(new TextEncoder().encode(canonical));
}

/**
 * Finds the version a job's `dataset` names: `name@version` exactly, `name` as its latest
 * version. Stores made before versioned datasets keep Fashion-MNIST under the bare id
 * `fashion-mnist`, which an exact lookup still finds.
 */
export async function resolveDataset(
  store: Pick<Store, 'getDataset' | 'listDatasets'>,
  ref: string,
): Promise<DatasetRecord | null> {
  const exact = await store.getDataset(ref);
  if (exact) return exact;
  const { name, version } = parseDatasetRef(ref);
  if (version !== null) return null;
  const versions = (await store.listDatasets()).filter((d) => d.name === name);
  return versions.reduce<DatasetRecord | null>((a, d) => (!a || d.version > a.version ? d : a), null);
}
