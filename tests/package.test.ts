// The npm package as a user gets it: `npm pack` (which builds dist/ through prepack), install the
// tarball into a fresh project, then run a plain-Node ESM consumer (tests/package/consumer.mjs: the
// verifier, a custom .ts reward outside any "type": "module" folder, config loading, an estimator, and
// the shipped Python engine) and type-check a TypeScript consumer (tests/package/consumer.ts) against
// the package's .d.ts files, and run the installed `simplerl` bin. Prints the tarball's size and
// file count. Needs the npm registry or npm's cache for the package's dependencies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultPython, REPO_ROOT } from '../src/engine/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'simplerl-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface PackInfo {
  filename: string;
  size: number;
  entryCount: number;
  files: { path: string }[];
}

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `npm pack --json`: lifecycle output (prepack's build) may precede the JSON on stdout. */
function pack(): PackInfo {
  const out = run('npm', ['pack', '--json', '--pack-destination', dir], REPO_ROOT);
  return (JSON.parse(out.slice(out.indexOf('[\n'))) as PackInfo[])[0];
}

/** Files under src/ that are neither TypeScript, docs nor test fixtures: they must travel into dist/. */
function runtimeAssets(): string[] {
  return run('git', ['ls-files', 'src'], REPO_ROOT)
    .split('\n')
    .filter((f) => f !== '' && !/\.ts$|README\.md$|\/fixtures\//.test(f))
    .map((f) => f.slice('src/'.length));
}

function makeProject(tarball: string): string {
  const project = join(dir, 'project');
  mkdirSync(join(project, 'rewards'), { recursive: true });
  writeFileSync(join(project, 'package.json'), '{"name":"consumer","private":true,"type":"module"}\n');
  // a CommonJS-scope folder: the custom reward .ts there must load all the same
  writeFileSync(join(project, 'rewards', 'package.json'), '{"name":"rewards","private":true}\n');
  run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball],
    project,
  );
  for (const f of ['consumer.mjs', 'consumer.ts'])
    copyFileSync(join(import.meta.dirname, 'package', f), join(project, f));
  return project;
}

function typeCheck(project: string): void {
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
      types: ['node'],
    },
    files: ['consumer.ts'],
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
  run(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', project], project);
}

test('npm pack → fresh project: ESM consumer, TypeScript consumer, bin', { timeout: 240_000 }, () => {
  const info = pack();
  const paths = info.files.map((f) => f.path);
  console.log(`# tarball ${info.filename}: ${(info.size / 1e6).toFixed(2)} MB, ${info.entryCount} files`);
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'bin/simplerl.mjs', 'configs/zero.yaml'])
    assert.ok(paths.includes(needed), `${needed} missing from the tarball`);
  assert.ok(
    paths.includes('engine/simplerl_engine/server.py') && paths.includes('dist/reward/grade-worker.mjs'),
  );
  assert.ok(
    paths.some((p) => p.startsWith('assets/demo-bases/')),
    'the demo bases must ship',
  );
  assert.ok(paths.includes('data/bench/math500/test.jsonl'), 'the shipped benchmark copies (eval default)');
  const missing = runtimeAssets().filter((f) => !paths.includes(`dist/${f}`));
  assert.deepEqual(
    missing,
    [],
    'non-TypeScript files under src/ used at run time: add them to scripts/build.mjs ASSETS',
  );
  const stray = paths.filter((p) => /^(src|tests|bench)\/|\.test\.|__pycache__/.test(p));
  assert.deepEqual(stray, [], 'sources, tests and benchmarks stay out of the package');

  const project = makeProject(join(dir, info.filename));
  const env = { ...process.env, SIMPLERL_PYTHON: defaultPython() };
  const out = JSON.parse(
    run('node', ['consumer.mjs', project], project, env).trim().split('\n').at(-1) ?? '',
  );
  assert.equal(out.correct, true);
  assert.equal(out.customReward, 2, 'the .ts custom reward in a CommonJS folder ran');
  assert.equal(out.algo, 'ppo');
  // GRPO over one group of two rewards (1, 0): ±(0.5 / unbiased std 0.707) = ±1/√2
  assert.ok(
    Math.abs(out.advantages[0] - Math.SQRT1_2) < 1e-4 && Math.abs(out.advantages[1] + Math.SQRT1_2) < 1e-4,
  );
  assert.equal(out.engineDir, join(project, 'node_modules', 'simplerl', 'engine'));
  assert.equal(out.engineProtocol, 1);
  typeCheck(project);
  const bin = join(project, 'node_modules', '.bin', 'simplerl');
  assert.equal(run(bin, ['--version'], project).trim(), info.filename.match(/-(\d+\.\d+\.\d+)\.tgz$/)?.[1]);
  assert.match(run(bin, ['plan', '--help'], project), /Usage: simplerl plan/);
});
