// Checkpoint manifests: a damaged file (same-size zeroed region, truncation) is named and the resume
// falls back to the previous complete checkpoint; old checkpoints without a manifest are accepted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CHECKPOINT_ERROR,
  type ControllerState,
  DAMAGED_SUFFIX,
  findVerifiedCheckpoint,
  MANIFEST_FILE,
  SKIPPED_CHECKPOINT,
  verifyManifest,
  writeCheckpoint,
} from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'simplerl-manifest-'));
after(() => rmSync(root, { recursive: true, force: true }));

function state(step: number): ControllerState {
  return {
    version: 1,
    step,
    num_optimizer_steps: step,
    sampler: null,
    rng: { seed: 1, scheme: 'hash32-v1' },
    kl: null,
    problems: { count: 1, fingerprint: 'f' },
    time: 't',
  };
}

/** A run with checkpoints of steps 1 and 2, each with a 512 KB policy/model.safetensors. */
async function runWithTwoCheckpoints(name: string): Promise<string> {
  const runDir = join(root, name);
  for (const step of [1, 2]) {
    await writeCheckpoint(join(runDir, 'checkpoints'), state(step), async (dir) => {
      mkdirSync(join(dir, 'policy'));
      writeFileSync(join(dir, 'policy', 'model.safetensors'), randomBytes(512 * 1024));
      writeFileSync(join(dir, 'policy', 'config.json'), '{}');
    });
  }
  return runDir;
}

async function resume(runDir: string): Promise<{ step: number | undefined; lines: string[] }> {
  const lines: string[] = [];
  const info = await findVerifiedCheckpoint(runDir, (l) => lines.push(l));
  return { step: info?.step, lines };
}

describe('checkpoint manifest', () => {
  test('written last: lists every file with size and sha256; a fresh checkpoint verifies', async () => {
    const runDir = await runWithTwoCheckpoints('fresh');
    const dir = join(runDir, 'checkpoints', 'step-000002');
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
    assert.deepEqual(
      m.files.map((f: { path: string }) => f.path),
      ['controller.json', 'policy/config.json', 'policy/model.safetensors'],
    );
    assert.equal(m.files[2].size, 512 * 1024);
    assert.match(m.files[2].sha256, /^[0-9a-f]{64}$/);
    assert.equal(await verifyManifest(dir), null);
    assert.deepEqual(await resume(runDir), { step: 2, lines: [] });
  });

  test('64 KB zeroed inside model.safetensors (same size): falls back to step 1, naming the file', async () => {
    const runDir = await runWithTwoCheckpoints('zeroed');
    const file = join(runDir, 'checkpoints', 'step-000002', 'policy', 'model.safetensors');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024), 0, 64 * 1024, 100_000);
    closeSync(fd);
    const r = await resume(runDir);
    assert.equal(r.step, 1);
    assert.equal(r.lines.length, 1);
    assert.ok(r.lines[0].includes(`${SKIPPED_CHECKPOINT} step-000002: ${file}: sha256 differs`), r.lines[0]);
    assert.match(r.lines[0], /falling back to the previous checkpoint/);
    assert.ok(existsSync(join(runDir, 'checkpoints', `step-000002${DAMAGED_SUFFIX}`)));
    assert.equal(readFileSync(join(runDir, 'checkpoints', 'LATEST'), 'utf8'), 'step-000001\n');
  });

  test('a truncated file: falls back, naming the file and both sizes', async () => {
    const runDir = await runWithTwoCheckpoints('truncated');
    const file = join(runDir, 'checkpoints', 'step-000002', 'policy', 'model.safetensors');
    truncateSync(file, 1000);
    const r = await resume(runDir);
    assert.equal(r.step, 1);
    assert.ok(r.lines[0].includes(`${file} has 1000 bytes, the manifest says ${512 * 1024}`), r.lines[0]);
  });

  test('every checkpoint damaged: refused, never trained on', async () => {
    const runDir = await runWithTwoCheckpoints('all-bad');
    for (const s of ['step-000001', 'step-000002'])
      rmSync(join(runDir, 'checkpoints', s, 'policy', 'config.json'));
    await assert.rejects(
      findVerifiedCheckpoint(runDir, () => {}),
      new RegExp(`${CHECKPOINT_ERROR}: no checkpoint of .* verifies \\(step-000002, step-000001 damaged\\)`),
    );
  });

  test('a checkpoint without manifest (older simplerl): accepted with a warning', async () => {
    const runDir = await runWithTwoCheckpoints('old');
    rmSync(join(runDir, 'checkpoints', 'step-000002', MANIFEST_FILE));
    const r = await resume(runDir);
    assert.equal(r.step, 2);
    assert.match(r.lines[0], /warning: .*step-000002 has no manifest\.json .*not verified/);
  });
});
