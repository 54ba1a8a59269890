import { open, stat } from 'node:fs/promises';
import { parseMetricsLine } from '../run/metrics.ts';
import type { RunsConfinement } from './confine.ts';

/** How many malformed lines are kept with their line number and reason (all are counted). */
export const MAX_MALFORMED_KEPT = 20;

/** Bytes read per `read()` call on a growing file; a large file is read in several chunks. */
const READ_CHUNK_BYTES = 8 << 20;

export interface MalformedLine {
  line: number;
  reason: string;
}

/**
 * Columns of a run's metrics from row `from` on: `steps[i]` is the step of row `from + i` and
 * `columns[key][i]` its value of `key` (null where the row has none or it is not a finite number).
 */
export interface MetricsSlice {
  from: number;
  steps: number[];
  columns: Record<string, (number | null)[]>;
  numRows: number;
  numLines: number;
  numMalformed: number;
  malformed: MalformedLine[];
}

/**
 * The metrics of one `metrics.jsonl`, held as columns and brought up to date by reading only the bytes
 * appended since the last read (the file is a log that is only appended to). A line without its
 * newline yet is left for the next read: the trainer may be half-way through writing it. A file that
 * shrank or was replaced (resume rewrites it atomically) is read again and `generation` goes up.
 */
export class MetricsStore {
  readonly steps: number[] = [];
  readonly columns = new Map<string, (number | null)[]>();
  readonly malformed: MalformedLine[] = [];
  numMalformed = 0;
  numLines = 0;
  generation = 0;
  private offset = 0;
  private inode = 0;
  private pending: Promise<void> | null = null;

  /** `confinement`: read the file only while it is a regular file inside the runs folder (confine.ts). */
  constructor(
    readonly path: string,
    private readonly confinement?: RunsConfinement,
  ) {}

  get numRows(): number {
    return this.steps.length;
  }

  /** Reads what was appended since the last call; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.pending ??= this.readNew().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** The rows from index `from` on, as columns. */
  slice(from: number): MetricsSlice {
    const columns: Record<string, (number | null)[]> = Object.create(null); // a "__proto__" metric stays data
    for (const [key, values] of this.columns) columns[key] = values.slice(from);
    return {
      from,
      steps: this.steps.slice(from),
      columns,
      numRows: this.numRows,
      numLines: this.numLines,
      numMalformed: this.numMalformed,
      malformed: [...this.malformed],
    };
  }

  private async readNew(): Promise<void> {
    let size = 0; // not written yet, removed, or a link out of the runs folder: nothing to show
    let inode = 0;
    const path = this.confinement ? await this.confinement.file(this.path) : this.path;
    try {
      if (path !== null) ({ size, ino: inode } = await stat(path));
    } catch {}
    // Shorter, or another file under the same name (rewritten atomically on resume): start over.
    if (size < this.offset || (this.offset > 0 && inode !== this.inode)) this.clear();
    this.inode = inode;
    if (size === this.offset || path === null) return;
    const file = await open(path, 'r');
    try {
      while (this.offset < size) {
        const length = Math.min(READ_CHUNK_BYTES, size - this.offset);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(buffer, 0, length, this.offset);
        const end = buffer.lastIndexOf(0x0a, bytesRead - 1);
        if (end < 0) {
          if (bytesRead < READ_CHUNK_BYTES) break; // a partial last line: wait for its newline
          throw new Error(`${this.path}: a line longer than ${READ_CHUNK_BYTES} bytes`);
        }
        this.addLines(buffer.toString('utf8', 0, end));
        this.offset += end + 1;
      }
    } finally {
      await file.close();
    }
  }

  private addLines(text: string): void {
    for (const line of text.split('\n')) {
      this.numLines++;
      if (line.trim() === '') continue;
      const parsed = parseMetricsLine(line);
      if ('error' in parsed) {
        this.numMalformed++;
        if (this.malformed.length < MAX_MALFORMED_KEPT)
          this.malformed.push({ line: this.numLines, reason: parsed.error });
        continue;
      }
      this.addRow(parsed.row);
    }
    // Columns a row had no value for are filled once per read, not once per row.
    for (const column of this.columns.values()) while (column.length < this.steps.length) column.push(null);
  }

  /** Finite numbers go to their column; other values (`time`, strings, null) are not curves. */
  private addRow(row: Record<string, unknown>): void {
    const index = this.steps.length;
    this.steps.push(row.step as number);
    for (const key in row) {
      const value = row[key];
      if (key === 'step' || typeof value !== 'number' || !Number.isFinite(value)) continue;
      let column = this.columns.get(key);
      if (!column) {
        column = [];
        this.columns.set(key, column);
      }
      while (column.length < index) column.push(null);
      column.push(value);
    }
  }

  private clear(): void {
    this.steps.length = 0;
    this.columns.clear();
    this.malformed.length = 0;
    this.numMalformed = 0;
    this.numLines = 0;
    this.offset = 0;
    this.generation++;
  }
}
