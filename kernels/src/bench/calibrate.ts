/**
 * Deciding by measurement, per device, whether our kernel or TF.js's sequence serves an op:
 * times both at the demo model's shapes (the bench cases marked `demo`) and records the speedup
 * on each kernel's status; ops then route to TF.js where it was faster. Meant to run once per
 * device after `verifyKernels` (seconds on a CPU adapter, well under one on a GPU); timings are
 * noisy, so a kernel needs to lose by more than `margin` to be set aside.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelStatus, markKernel } from '../registry.ts';
import { runKernelBench } from './run.ts';

export interface Calibration {
  kernel: string;
  speedup: number;
  prefer: 'ours' | 'tfjs';
}

export async function calibrateKernels(
  options: { budgetMs?: number; margin?: number } = {},
): Promise<Calibration[]> {
  if (tf.getBackend() !== 'webgpu') return [];
  const backend = tf.backend();
  const margin = options.margin ?? 0.9;
  const report = await runKernelBench({ budgetMs: options.budgetMs ?? 200, filter: (c) => c.demo });
  // A kernel timed at several demo shapes (the MLP's two layers) gets the geometric mean.
  const ratios = new Map<string, number[]>();
  for (const entry of report.entries) {
    for (const kernel of entry.kernels) ratios.set(kernel, [...(ratios.get(kernel) ?? []), entry.ratio]);
  }
  const out: Calibration[] = [];
  for (const [kernel, rs] of ratios) {
    const speedup = Math.exp(rs.reduce((a, r) => a + Math.log(r), 0) / rs.length);
    const prefer = speedup < margin ? 'tfjs' : 'ours';
    markKernel(backend, kernel, { ...kernelStatus(backend, kernel), speedup, prefer });
    out.push({ kernel, speedup, prefer });
  }
  return out;
}
