import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Every eval label of a run, sorted; a broken summary.json is reported on its label, not thrown. */
export async function readEvals(evalDir: string): Promise<EvalResult[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(evalDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const labels = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const results: EvalResult[] = [];
  for (const label of labels) {
    const text = await readOptional(join(evalDir, label, 'summary.json'));
    const resultsMd = await readOptional(join(evalDir, label, 'results.md'));
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
