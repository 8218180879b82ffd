/**
 * Builds the tabular example into client/dist/examples/tabular, which the coordinator serves at
 * /examples/tabular/ (the page then talks to the coordinator that served it). A config of its
 * own, like examples/fashion-classifier: pages outside client/ cannot be inputs of the root one.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/examples/tabular/',
  build: {
    outDir: resolve(import.meta.dirname, '../../client/dist/examples/tabular'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
});
