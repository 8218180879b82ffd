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
    // Not minified: TF.js's threaded wasm backend starts its pthread workers from the source
    // text of its Emscripten factory (Function#toString), which must not refer to names the
    // minifier shortened outside it ("ReferenceError: e is not defined" in each worker, and wasm
    // never starts on the cross-origin-isolated contribute page). Vite 8's minifier (oxc via
    // rolldown) ignores esbuild's minifyIdentifiers; gzip recovers most of the size.
    minify: false,
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
