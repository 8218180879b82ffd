/**
 * One Vite config for the tree: it builds the browser pages under client/ (served by the
 * coordinator from client/dist) and configures vitest for the unit tests beside the code.
 */
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, 'client'),
  plugins: [svelte()],
  build: {
    outDir: resolve(import.meta.dirname, 'client/dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        contribute: resolve(import.meta.dirname, 'client/index.html'),
        admin: resolve(import.meta.dirname, 'client/admin.html'),
      },
    },
  },
  test: {
    root: import.meta.dirname,
    include: ['{shared,coordinator,client,kernels,examples}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests start real servers and TF.js backends; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
