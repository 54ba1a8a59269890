import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunsConfinement } from './confine.ts';

export const EVAL_SUMMARY_UNREADABLE = 'summary.json does not parse';

/** One `runs/<name>/eval/<label>/` folder as `simplerl eval` writes it. */
export interface EvalResult {
  label: string;
  /** summary.json as written (any JSON), or null when absent or broken (see `error`). */
  summary: unknown;
  /** results.md as written, or null when absent. */
  resultsMd: string | null;
  error: string | null;
}

async function readOptional(path: string, confinement?: RunsConfinement): Promise<string | null> {
  const real = confinement ? await confinement.file(path) : path;
  if (real === null) return null; // absent, not a regular file, or a link out of the runs folder
  try {
    return await readFile(real, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Every eval label of a run, sorted; a broken summary.json is reported on its label, not thrown. */
export async function readEvals(evalDir: string, confinement?: RunsConfinement): Promise<EvalResult[]> {
  let entries: import('node:fs').Dirent[];
  const dir = confinement ? await confinement.dir(evalDir) : evalDir;
  if (dir === null) return [];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const labels = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const results: EvalResult[] = [];
  for (const label of labels) {
    const text = await readOptional(join(dir, label, 'summary.json'), confinement);
    const resultsMd = await readOptional(join(dir, label, 'results.md'), confinement);
    if (text === null && resultsMd === null) continue;
    let summary: unknown = null;
    let error: string | null = null;
    if (text !== null) {
      try {
        summary = JSON.parse(text);
      } catch (err) {
        error = `${EVAL_SUMMARY_UNREADABLE}: ${(err as Error).message}`;
      }
    }
    results.push({ label, summary, resultsMd, error });
  }
  return results;
}
