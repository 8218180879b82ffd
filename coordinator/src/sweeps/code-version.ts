/**
 * The code version a trial records for its re-runs: the git commit the coordinator runs from,
 * with `-dirty` when the tree has changes, else the package version (an installed copy has no
 * .git).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function codeVersion(): string {
  const root = resolve(import.meta.dirname, '../../..');
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git(['rev-parse', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${commit}-dirty` : commit;
  } catch {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string };
    return `gridtab@${pkg.version}`;
  }
}
