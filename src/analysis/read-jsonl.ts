// Line-by-line JSONL reading for analysis: a line that does not parse (a run being written, a
// truncated copy) is skipped and counted, never fatal, as for metrics.jsonl.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface JsonlSkips {
  numBadLines: number;
  /** First few `FILE:LINE: reason`. */
  badExamples: string[];
}

export const MAX_BAD_EXAMPLES = 5;

export function noteBadLine(skips: JsonlSkips, where: string, why: string): void {
  skips.numBadLines++;
  if (skips.badExamples.length < MAX_BAD_EXAMPLES) skips.badExamples.push(`${where}: ${why}`);
}

/** Calls `onRow` for every JSON object line of `path`; anything else is noted in `skips`. */
export async function forEachJsonObject(
  path: string,
  skips: JsonlSkips,
  onRow: (row: Record<string, unknown>, where: string) => void,
): Promise<void> {
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    const where = `${path}:${lineNo}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      noteBadLine(skips, where, `invalid JSON: ${(err as Error).message}`);
      continue;
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      noteBadLine(skips, where, 'not a JSON object');
      continue;
    }
    onRow(row as Record<string, unknown>, where);
  }
}
