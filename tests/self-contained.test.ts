// The repository explains itself: no tracked file points at a path outside it (the design notes of
// the people who built it, a sibling checkout, a machine's own folders), and every relative link of
// its Markdown files lands on a file inside it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../src/engine/index.ts';

/** Paths outside the repository that files of it once pointed at. */
export const OUTSIDE_PATH =
  /\.\.\/shared\b|\bshared\/(DESIGN|notes)\b|(?<![\w/])notes\/[\w-]+\.md|\/work\/(main|shared|wt)\b/;
const THIS_FILE = relative(REPO_ROOT, import.meta.filename);

function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => f !== '' && f !== THIS_FILE && existsSync(join(REPO_ROOT, f)))
    .filter((f) => !/\.(safetensors|png|parquet|bin|pt|gz)$/.test(f));
}

test('no tracked file refers to a path outside the repository', () => {
  const hits: string[] = [];
  for (const file of trackedTextFiles()) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (OUTSIDE_PATH.test(line)) hits.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  assert.deepEqual(hits, []);
});

test('relative links of the Markdown files land inside the repository, on files that exist', () => {
  const bad: string[] = [];
  for (const file of trackedTextFiles().filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:|^#/.test(target)) continue; // a URL or an anchor of the same page
      const path = resolve(dirname(join(REPO_ROOT, file)), target.split('#')[0]);
      if (relative(REPO_ROOT, path).startsWith('..') || !existsSync(path)) bad.push(`${file}: ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});
