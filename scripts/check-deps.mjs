#!/usr/bin/env node
/**
 * Fails when a workspace imports a package it does not declare, or when the workspaces depend on
 * each other against the one allowed direction. Every file belongs to the nearest workspace above
 * it (bench/, scripts/, bin/, examples/ and the root configs belong to the root package). A
 * relative import that reaches into another workspace counts as a dependency on that workspace.
 * No dependency checker is installed (knip, depcheck); TypeScript's own pre-processor lists each
 * file's imports (static, dynamic, require and `export from`), which is all this needs.
 * Usage: node scripts/check-deps.mjs
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Which workspace may depend on which: lower packages never import higher ones. */
const ALLOWED = {
  '@gridtab/kernels': [],
  '@gridtab/shared': ['@gridtab/kernels'],
  '@gridtab/client': ['@gridtab/shared', '@gridtab/kernels'],
  '@gridtab/coordinator': ['@gridtab/shared', '@gridtab/kernels'],
  '@gridtab/e2e': ['@gridtab/shared', '@gridtab/kernels', '@gridtab/client', '@gridtab/coordinator'],
};

const workspaces = rootPkg.workspaces.map((dir) => {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  return { dir: join(root, dir), pkg };
});
const rootWorkspace = { dir: root, pkg: rootPkg };

function owner(file) {
  return workspaces.find((w) => file.startsWith(w.dir + sep)) ?? rootWorkspace;
}

// Installed packages, build output, test and bench results, the default DATA_DIR: no sources.
const SKIP = new Set(['node_modules', 'dist', '.git', 'test-results', 'results', 'data']);
const SOURCE = /\.(ts|mts|mjs|js|svelte)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

function importsOf(file) {
  let text = readFileSync(file, 'utf8');
  // A Svelte component's imports are in its <script> blocks.
  if (file.endsWith('.svelte'))
    text = [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}
const builtins = new Set(builtinModules);

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function declared(pkg) {
  return new Set(
    [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies, pkg.optionalDependencies].flatMap((d) =>
      Object.keys(d ?? {}),
    ),
  );
}

const problems = [];
for (const file of files(root)) {
  const here = owner(file);
  const deps = declared(here.pkg);
  for (const spec of importsOf(file)) {
    let needed;
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      const there = owner(target);
      // The root package holds every workspace (bench/, scripts/ reach in by path); a workspace
      // reaching into another by path depends on it.
      if (there === here || there === rootWorkspace || here === rootWorkspace) continue;
      needed = there.pkg.name;
    } else {
      if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(packageOf(spec))) continue;
      // Vite's own module ids, not packages.
      if (spec.startsWith('virtual:') || spec.startsWith('/')) continue;
      needed = packageOf(spec);
    }
    const where = relative(root, file);
    if (needed === here.pkg.name) continue;
    if (!deps.has(needed))
      problems.push(`${where}: imports ${spec} but ${here.pkg.name} does not declare ${needed}`);
    const allowed = ALLOWED[here.pkg.name];
    if (allowed && needed.startsWith('@gridtab/') && !allowed.includes(needed)) {
      problems.push(`${where}: ${here.pkg.name} may not depend on ${needed} (${spec})`);
    }
  }
}

for (const w of workspaces) {
  const allowed = ALLOWED[w.pkg.name] ?? [];
  for (const dep of declared(w.pkg)) {
    if (dep.startsWith('@gridtab/') && !allowed.includes(dep)) {
      problems.push(`${relative(root, w.dir)}/package.json: ${w.pkg.name} may not depend on ${dep}`);
    }
  }
}

for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`${problems.length} dependency problem(s)`);
  process.exit(1);
}
console.log('dependencies: every import declared, workspaces depend one way');
