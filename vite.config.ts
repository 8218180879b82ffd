/**
 * One Vite config for the tree: it builds the browser pages under client/ (served by the
 * coordinator from client/dist) and configures vitest for the unit tests beside the code and
 * the Node integration tests in e2e/integration/.
 */
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, 'client'),
  plugins: [svelte()],
  build: {
    // esbuild, not Vite 8's default oxc minifier: TF.js's threaded wasm backend starts its
    // pthread workers from the source text of its Emscripten factory (Function#toString). oxc's
    // compress folds the factory's `typeof _scriptDir !== "undefined"` guard away (it sees the
    // enclosing declaration), so each worker, which has no such variable, died with
    // "ReferenceError: e is not defined" and wasm never started. esbuild renames but keeps the
    // typeof guard; e2e/cnn.spec.ts checks that wasm starts threaded on the contribute page.
    // Picked over terser (not installed) and over shipping unminified (3.9 MB -> 1.4 MB).
    minify: 'esbuild',
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
    // Unit tests sit beside the code; tests that run a coordinator and the client runtime
    // together live in e2e/integration/, so neither package's tests import the other.
    include: ['{shared,coordinator,client,kernels,examples}/**/*.test.ts', 'e2e/integration/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests start real servers and TF.js backends; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
