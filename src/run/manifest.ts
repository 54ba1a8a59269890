// checkpoints/step-NNNNNN/manifest.json: every file of the checkpoint with its size and sha256, written
// last (after the weights and controller.json) so that its presence means the folder is complete, and
// checked on resume so that a damaged file (zeroed bytes, truncation) is named and never trained on.
// Hashing streams each file through node:crypto (no whole-file buffers; a 7B optimizer.pt is ~60 GB).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_ERROR = 'damaged checkpoint';

export interface ManifestEntry {
  /** Path relative to the checkpoint folder, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  version: 1;
  files: ManifestEntry[];
}

/** Why a checkpoint folder fails verification, naming the file; null when it verifies. */
export type ManifestProblem = { kind: 'missing-manifest' | 'damaged'; message: string };

/** Regular files under `dir` (recursive), relative '/'-separated paths, sorted; the manifest excluded. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? join(sub, e.name) : e.name;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile() && rel !== MANIFEST_FILE) out.push(rel.split(sep).join('/'));
    }
  };
  walk('');
  return out.sort();
}

/** sha256 (hex) of a file, streamed in 1 MiB chunks. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Hashes every file of `dir` and writes `dir/manifest.json` atomically (call it after the last file). */
export async function writeManifest(dir: string): Promise<Manifest> {
  const files: ManifestEntry[] = [];
  for (const path of listFiles(dir)) {
    const abs = join(dir, path);
    files.push({ path, size: statSync(abs).size, sha256: await sha256File(abs) });
  }
  const manifest: Manifest = { version: 1, files };
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

function readManifest(dir: string): Manifest | string {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
    if (m.version !== 1 || !Array.isArray(m.files)) return `${MANIFEST_FILE}: unknown format`;
    return m;
  } catch (err) {
    return `${MANIFEST_FILE}: ${(err as Error).message}`;
  }
}

/**
 * Checks every file the manifest lists: present, same size (cheap, catches truncation first), same
 * sha256. Returns null when the folder verifies, else the problem with the file's full path.
 */
export async function verifyManifest(dir: string): Promise<ManifestProblem | null> {
  if (!existsSync(join(dir, MANIFEST_FILE))) {
    return { kind: 'missing-manifest', message: `${join(dir, MANIFEST_FILE)} is missing` };
  }
  const m = readManifest(dir);
  if (typeof m === 'string') return { kind: 'damaged', message: `${join(dir, m)}` };
  for (const f of m.files) {
    const abs = join(dir, f.path);
    if (!existsSync(abs)) return { kind: 'damaged', message: `${abs} is missing` };
    const size = statSync(abs).size;
    if (size !== f.size)
      return { kind: 'damaged', message: `${abs} has ${size} bytes, the manifest says ${f.size}` };
  }
  for (const f of m.files) {
    const abs = join(dir, f.path);
    if ((await sha256File(abs)) !== f.sha256) {
      return { kind: 'damaged', message: `${abs}: sha256 differs from the manifest (the file is corrupt)` };
    }
  }
  return null;
}
