/**
 * Test fixtures both sides use: a small, learnable, synthetic image set (28x28, ten classes).
 * The coordinator's tests write it as IDX files; the trainer's tests train on it directly.
 */
import { mulberry32 } from './random.ts';

/** Each class lights up its own horizontal band of the 28x28 image, plus noise. */
export function syntheticImages(count: number, seed: number): { pixels: Uint8Array; labels: Uint8Array } {
  const rand = mulberry32(seed);
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = Math.floor(rand() * 10);
    labels[i] = label;
    for (let p = 0; p < 784; p++) {
      const row = Math.floor(p / 28);
      const inBand = Math.floor(row / 2.8) === label;
      pixels[i * 784 + p] = Math.min(255, Math.floor((inBand ? 160 : 0) + rand() * 90));
    }
  }
  return { pixels, labels };
}
