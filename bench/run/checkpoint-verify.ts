// Time to write and verify a checkpoint manifest on a Qwen2.5-0.5B-sized folder (issue 16):
// policy/model.safetensors 988 MB (bf16 weights) + optimizer.pt sized by SIMPLERL_BENCH_OPT_MB (default 0:
// the bench keeps /tmp small; set e.g. 3950 for fp32 AdamW state). Prints MB/s of sha256 streaming and,
// as the baseline measured in the same run, of a plain streaming read of the same files (no hashing).
// Run: node --import tsx bench/run/checkpoint-verify.ts   (files go to a temp folder, deleted at the end)

import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFiles, verifyManifest, writeManifest } from '../../src/run/manifest.ts';

function writeRandom(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < mb; i++) writeSync(fd, chunk);
  closeSync(fd);
}

function readAll(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', () => {})
      .on('error', reject)
      .on('end', () => resolve());
  });
}

const dir = mkdtempSync(join(tmpdir(), 'simplerl-bench-verify-'));
try {
  mkdirSync(join(dir, 'policy'));
  const modelMb = 988;
  const optMb = Number(process.env.SIMPLERL_BENCH_OPT_MB ?? 0);
  writeRandom(join(dir, 'policy', 'model.safetensors'), modelMb);
  if (optMb > 0) writeRandom(join(dir, 'policy', 'optimizer.pt'), optMb);
  const totalMb = modelMb + optMb;
  let t = performance.now();
  for (const f of listFiles(dir)) await readAll(join(dir, f));
  const readS = (performance.now() - t) / 1000;
  t = performance.now();
  await writeManifest(dir);
  const writeS = (performance.now() - t) / 1000;
  t = performance.now();
  const problem = await verifyManifest(dir);
  const verifyS = (performance.now() - t) / 1000;
  if (problem !== null) throw new Error(problem.message);
  const row = (what: string, s: number) =>
    `${what.padEnd(28)} ${s.toFixed(2).padStart(7)} s  ${(totalMb / s).toFixed(0).padStart(6)} MB/s`;
  console.log(`checkpoint folder: ${totalMb} MB (page cache warm after writing)`);
  console.log(row('plain read (baseline)', readS));
  console.log(row('write manifest (sha256)', writeS));
  console.log(row('verify manifest (sha256)', verifyS));
  console.log(`verify / plain read: ${(verifyS / readS).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
