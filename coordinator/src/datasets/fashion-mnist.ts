/**
 * Loads Fashion-MNIST from the four IDX files Debian's `dataset-fashion-mnist` installs, and
 * says exactly which file is missing and how to get it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GridTabError } from '@gridtab/shared';
import { parseIdx } from './idx.ts';

export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface LabeledImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface ImageDataset {
  train: LabeledImages;
  test: LabeledImages;
}

function findFile(dir: string, name: string): string | null {
  // Accept the gzipped files and uncompressed copies alike.
  for (const candidate of [name, name.replace(/\.gz$/, '')]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

function readPair(dir: string, imagesName: string, labelsName: string): LabeledImages {
  const images = parseIdx(new Uint8Array(readFileSync(findFile(dir, imagesName)!)));
  const labels = parseIdx(new Uint8Array(readFileSync(findFile(dir, labelsName)!)));
  if (images.shape.length !== 3 || labels.shape.length !== 1) {
    throw new Error(`${imagesName}/${labelsName}: expected 3-d images and 1-d labels`);
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new Error(
      `${imagesName} has ${images.shape[0]} images but ${labelsName} has ${labels.shape[0]} labels`,
    );
  }
  return {
    count: images.shape[0],
    rows: images.shape[1],
    cols: images.shape[2],
    pixels: images.data,
    labels: labels.data,
  };
}

export function loadFashionMnist(dir: string): ImageDataset {
  const missing = Object.values(FASHION_MNIST_FILES).filter((f) => !findFile(dir, f));
  if (missing.length > 0) {
    throw new GridTabError(
      'DATASET_MISSING',
      `Fashion-MNIST files missing in ${dir}: ${missing.join(', ')}. ` +
        `On Debian or Ubuntu install them with 'apt-get install dataset-fashion-mnist' (they land in ${DEFAULT_FASHION_MNIST_DIR}), ` +
        'or download the four .gz files from the Fashion-MNIST project and set FASHION_MNIST_DIR to their folder.',
    );
  }
  const f = FASHION_MNIST_FILES;
  return {
    train: readPair(dir, f.trainImages, f.trainLabels),
    test: readPair(dir, f.testImages, f.testLabels),
  };
}
