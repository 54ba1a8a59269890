// metrics.jsonl: one JSON object per step, appended line by line and fsynced, so that a killed run
// loses at most the line being written (a reader skips and counts a line that does not parse).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomic } from './atomic.ts';
import type { Tracker } from './trackers/tracker.ts';

/** Error prefix of a metrics row that breaks the run layout's rules. */
export const BAD_METRICS = 'bad metrics row';

/** Problems with single lines of `metrics.jsonl`: the line is skipped and counted, never fatal. */
export const MALFORMED_JSON = 'not valid JSON';
export const MALFORMED_NOT_OBJECT = 'not a JSON object';
export const MALFORMED_STEP = 'no integer "step"';

/** Parses one line: an object with an integer `step` (its other values are not checked here) or why not. */
export function parseMetricsLine(line: string): { row: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: MALFORMED_JSON };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: MALFORMED_NOT_OBJECT };
  if (!Number.isInteger((value as Record<string, unknown>).step)) return { error: MALFORMED_STEP };
  return { row: value as Record<string, unknown> };
}

export type MetricsRow = { step: number; time: string } & Record<string, number | string>;

export class MetricsWriter {
  private fd: number;

  /** `trackers` (TensorBoard, W&B) get each row after it is written here. */
  constructor(
    readonly path: string,
    private readonly trackers: readonly Tracker[] = [],
  ) {
    this.fd = openSync(path, 'a');
  }

  /** Appends one row; every value but `time` must be a finite number, `step` an integer. */
  append(row: MetricsRow): void {
    checkRow(row);
    writeSync(this.fd, `${JSON.stringify(row)}\n`);
    fsyncSync(this.fd);
    for (const t of this.trackers) t.log(row);
  }

  /**
   * Closes the file at once, then waits for the trackers to finish. A tracker that fails is reported
   * on stderr, never thrown: metrics.jsonl holds every row, and the caller still has to shut down.
   */
  async close(): Promise<void> {
    closeSync(this.fd);
    for (const r of await Promise.allSettled(this.trackers.map((t) => t.close())))
      if (r.status === 'rejected') process.stderr.write(`simplerl: ${(r.reason as Error).message}\n`);
  }
}

export function checkRow(row: Record<string, unknown>): void {
  if (!Number.isInteger(row.step))
    throw new Error(`${BAD_METRICS}: step must be an integer, got ${row.step}`);
  for (const [k, v] of Object.entries(row)) {
    if (k === 'time') {
      if (typeof v !== 'string') throw new Error(`${BAD_METRICS}: time must be an ISO string`);
    } else if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${BAD_METRICS}: ${k} must be a finite number, got ${v} (step ${row.step})`);
    }
  }
}

/** Reads metrics.jsonl; lines that do not parse (e.g. cut by a kill) are skipped and counted. */
export function readMetrics(path: string): { rows: MetricsRow[]; numSkipped: number } {
  if (!existsSync(path)) return { rows: [], numSkipped: 0 };
  const rows: MetricsRow[] = [];
  let numSkipped = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const parsed = parseMetricsLine(line);
    if ('row' in parsed) rows.push(parsed.row as MetricsRow);
    else numSkipped++;
  }
  return { rows, numSkipped };
}

/**
 * Keeps the rows of steps ≤ `maxStep` (rewritten atomically): on resume from the checkpoint of step
 * `maxStep`, the steps after it are run again and must not appear twice.
 */
export function truncateMetrics(path: string, maxStep: number): number {
  if (!existsSync(path)) return 0;
  const { rows } = readMetrics(path);
  const kept = rows.filter((r) => r.step <= maxStep);
  writeFileAtomic(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return rows.length - kept.length;
}
