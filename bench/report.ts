/** Shared by the bench scripts: write results JSON and add a row under a marker in BENCHMARKS.md. */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    chromium: (() => {
      try {
        return execSync('/usr/bin/chromium --version', { encoding: 'utf8' }).trim();
      } catch {
        return 'not installed';
      }
    })(),
    date: new Date().toISOString(),
  };
}

export function writeResults(name: string, data: unknown): string {
  const dir = resolve(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** Inserts rows right after `<!-- marker -->` in docs/BENCHMARKS.md (newest first). */
export function addRows(marker: string, rows: string[]): void {
  const file = resolve(root, 'docs/BENCHMARKS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const tag = `<!-- ${marker} -->`;
  if (!text.includes(tag)) throw new Error(`docs/BENCHMARKS.md has no ${tag} marker`);
  writeFileSync(file, text.replace(tag, `${tag}\n${rows.join('\n')}`));
}
