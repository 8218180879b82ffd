/**
 * Builds the example into client/dist/examples/fashion-classifier, which the coordinator serves
 * at /examples/fashion-classifier/ (the page then talks to the coordinator that served it).
 * A config of its own: the root config's root is client/, and pages outside it cannot be inputs.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/examples/fashion-classifier/',
  // Module workers: the SDK's entry uses top-level await, which classic (iife) workers cannot.
  worker: { format: 'es' },
  build: {
    outDir: resolve(import.meta.dirname, '../../client/dist/examples/fashion-classifier'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
});
