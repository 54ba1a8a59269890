// Dependencies earn their place: every runtime dependency is imported by the shipped code (src/, bin/),
// every dev dependency by the tests, benchmarks, scripts or package.json scripts, and an @types
// package types something installed. A dependency nothing uses fails here by name.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../src/engine/index.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** Tracked files under `dirs` that import or require `name` (or a subpath of it). */
function importers(name: string, dirs: string[]): string[] {
  const pattern = `(from |import\\(|require\\(|resolve\\()['"]${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/[^'"]*)?['"]`;
  try {
    return execFileSync('git', ['grep', '-lE', pattern, '--', ...dirs], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    return []; // git grep exits 1 when nothing matches
  }
}

/** Tools run by name (npx, package.json scripts, shell scripts) rather than imported. */
const TOOLS: Record<string, RegExp> = {
  typescript: /\btsc\b/,
  '@biomejs/biome': /\bbiome\b/,
};

test('every runtime dependency is imported by src/ or bin/', () => {
  const unused = Object.keys(pkg.dependencies).filter((d) => importers(d, ['src', 'bin']).length === 0);
  assert.deepEqual(unused, []);
});

test('every dev dependency is used by tests, benchmarks, scripts or a tool run', () => {
  const scripts = [
    Object.values(pkg.scripts).join('\n'),
    readFileSync(join(REPO_ROOT, 'scripts', 'test.sh'), 'utf8'),
    readFileSync(join(REPO_ROOT, 'scripts', 'build.mjs'), 'utf8'),
  ].join('\n');
  const all = { ...pkg.dependencies, ...pkg.devDependencies };
  const unused = Object.keys(pkg.devDependencies).filter((d) => {
    if (d.startsWith('@types/')) {
      const typed = d.slice('@types/'.length);
      return typed !== 'node' && !(typed in all);
    }
    if (d in TOOLS) return !TOOLS[d].test(scripts);
    return importers(d, ['src', 'tests', 'bench', 'scripts']).length === 0;
  });
  assert.deepEqual(unused, []);
});
