/**
 * Runs the kernel benchmark on the active backend and renders it; browser-safe, so the Node
 * launcher (bench/kernels.ts) and a browser page run the same code. Ratio = TF.js ms / our ms:
 * above 1 means our kernel is faster on this adapter.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { isFallbackDevice } from '../gpu/features.ts';
import { kernelStatus, markKernel } from '../registry.ts';
import { kernelSupport } from '../verify.ts';
import { type BenchCase, benchCases, type Profile } from './cases.ts';
import { time } from './timing.ts';

export interface BenchEntry {
  kernel: string;
  kernels: string[];
  /** State of our kernels on this device when measured (a failed one means "ours" ran TF.js). */
  kernelState: string;
  shape: string;
  unit: 'GFLOPS' | 'GB/s';
  oursMs: number;
  tfjsMs: number;
  tfjsLabel: string;
  oursRate: number;
  tfjsRate: number;
  /** tfjsMs / oursMs. */
  ratio: number;
  /** Elementwise copy of the same input, for codecs: oursMs / copyMs (goal: <= 2). */
  copyMs?: number;
  vsCopy?: number;
}

export interface BenchReport {
  date: string;
  backend: string;
  adapter: ReturnType<typeof kernelSupport>['adapter'];
  fallbackAdapter: boolean;
  profile: Profile;
  machine?: Record<string, unknown>;
  /** Free-text caveats the launcher adds (e.g. a shared machine). */
  notes?: string[];
  entries: BenchEntry[];
}

/** SwiftShader and other CPU adapters: correct, but their timings say nothing about GPUs. */
export function isFallbackAdapter(): boolean {
  return tf.getBackend() !== 'webgpu' || isFallbackDevice((tf.backend() as WebGPUBackend).device);
}

/** Runs `fn` with calibration's preference lifted, so "ours" always times our kernels. */
async function withoutPreference<T>(kernels: string[], fn: () => Promise<T>): Promise<T> {
  if (tf.getBackend() !== 'webgpu') return fn();
  const backend = tf.backend();
  const saved = kernels.map((k) => kernelStatus(backend, k));
  kernels.forEach((k, i) => {
    markKernel(backend, k, { ...saved[i], prefer: undefined });
  });
  try {
    return await fn();
  } finally {
    kernels.forEach((k, i) => {
      markKernel(backend, k, saved[i]);
    });
  }
}

function stateOf(kernels: string[]): string {
  if (tf.getBackend() !== 'webgpu') return `backend ${tf.getBackend()}`;
  const states = new Set(kernels.map((k) => kernelStatus(tf.backend(), k).state));
  return [...states].join('/');
}

const rate = (c: BenchCase, ms: number) => (c.flops ?? c.bytes ?? 0) / (ms * 1e6);

export async function runKernelBench(
  options: {
    profile?: Profile;
    budgetMs?: number;
    log?: (line: string) => void;
    filter?: (c: BenchCase) => boolean;
  } = {},
): Promise<BenchReport> {
  const fallback = isFallbackAdapter();
  const profile = options.profile ?? (fallback ? 'fallback' : 'full');
  const budgetMs = options.budgetMs ?? (fallback ? 1500 : 500);
  const opts = { budgetMs, minSamples: fallback ? 2 : 5 };
  const entries: BenchEntry[] = [];
  for (const c of benchCases(profile).filter(options.filter ?? (() => true))) {
    const s = c.setup();
    try {
      const ours = await withoutPreference(c.kernels, () => time(s.ours, opts));
      const base = await time(s.tfjs, opts);
      const copy = s.copy ? await time(s.copy, opts) : undefined;
      const entry: BenchEntry = {
        kernel: c.kernel,
        kernels: c.kernels,
        kernelState: stateOf(c.kernels),
        shape: c.shape,
        unit: c.flops ? 'GFLOPS' : 'GB/s',
        oursMs: ours.ms,
        tfjsMs: base.ms,
        tfjsLabel: s.tfjsLabel,
        oursRate: rate(c, ours.ms),
        tfjsRate: rate(c, base.ms),
        ratio: base.ms / ours.ms,
        ...(copy ? { copyMs: copy.ms, vsCopy: ours.ms / copy.ms } : {}),
      };
      entries.push(entry);
      options.log?.(formatRow(entry));
    } finally {
      s.dispose();
    }
  }
  const support = kernelSupport();
  return {
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    adapter: support.adapter,
    fallbackAdapter: fallback,
    profile,
    entries,
  };
}

const f = (v: number, digits = 2) => (v >= 100 ? v.toFixed(0) : v.toFixed(digits));

export const TABLE_HEADER = [
  '| kernel | shape | ours ms | TF.js ms | ours | TF.js | ratio | faster | vs copy | TF.js sequence |',
  '|---|---|---|---|---|---|---|---|---|---|',
];

export function formatRow(e: BenchEntry): string {
  const copy = e.vsCopy !== undefined ? `${f(e.vsCopy)}x copy` : '';
  const faster = e.ratio >= 1 ? 'ours' : 'TF.js';
  return `| ${e.kernel} | ${e.shape} | ${f(e.oursMs)} | ${f(e.tfjsMs)} | ${f(e.oursRate, 3)} ${e.unit} | ${f(e.tfjsRate, 3)} ${e.unit} | ${f(e.ratio)} | ${faster} | ${copy} | ${e.tfjsLabel} |`;
}

export function toMarkdown(r: BenchReport): string {
  const a = r.adapter;
  const adapter = a
    ? [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')
    : 'none';
  const lines = [
    `Measured ${r.date} on backend \`${r.backend}\`, adapter: ${adapter}${r.fallbackAdapter ? ' (**CPU fallback adapter: correctness only, these speeds say nothing about a GPU**)' : ''}.`,
    r.machine
      ? `Machine: ${Object.entries(r.machine)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`
      : '',
    `Profile \`${r.profile}\`. Median ms per call, including a 4-byte readback to wait for the GPU. ` +
      'Ratio = TF.js ms / ours (above 1: ours faster). "x copy" = our codec time / an elementwise copy of the same floats.',
    '',
    ...(r.notes ?? []),
    '',
    ...TABLE_HEADER,
    ...r.entries.map(formatRow),
  ];
  return lines.filter((l, i) => l !== '' || lines[i + 1] === TABLE_HEADER[0]).join('\n');
}
