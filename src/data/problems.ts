import { basename, extname } from 'node:path';
import { readUtf8Strict } from './utf8.ts';

/** One maths problem with its gold answer. */
export interface Problem {
  id: string;
  problem: string;
  answer: string;
  level?: number | string;
  subject?: string;
}

/** Error prefix of a malformed problems file (the message continues `FILE:LINE: ...`). */
export const BAD_PROBLEM_LINE = 'bad problem record';

export interface FieldMapping {
  /** Field of the id; default `id`, `unique_id`, `idx`, else `<file>:<line>`. */
  id?: string;
  /**
   * Field of the problem text; default `problem`, then `question`, then `prompt` (a chat message list,
   * as in verl parquet files, gives its last user turn). Dotted paths reach nested fields.
   */
  problem?: string;
  /**
   * Field of the gold answer; default `answer` (text after `####` when present, GSM8K), then
   * `final_answer[0]` (OlympiadBench, outer `$` and a final full stop stripped), then `reward_model.ground_truth` (verl parquet
   * files), then the last `\boxed{}` of the solution field.
   */
  answer?: string;
  /** Field whose last `\boxed{}` is the gold when no answer field is present; default `solution`. */
  solution?: string;
}

export interface LoadProblemsOptions {
  fields?: FieldMapping;
  /** Keep only these levels; `3` matches `3` and `"Level 3"`. */
  levels?: (number | string)[];
  /** Keep only these subjects (case-insensitive; read from `subject`, else `type`). */
  subjects?: string[];
  /** Drop problems whose normalised text was seen before (default true). */
  dedup?: boolean;
  /** Keep at most this many problems (after filters and de-duplication). */
  limit?: number;
  /** `error` (default): a bad record throws `FILE:LINE: ...`; `skip`: it is skipped and counted. */
  onBadLine?: 'error' | 'skip';
}

export interface LoadProblemsReport {
  problems: Problem[];
  numRecords: number;
  numBad: number;
  /** First few `FILE:LINE: reason` of skipped records. */
  badExamples: string[];
  numDuplicates: number;
  numFiltered: number;
}

/** Text inside the last `\boxed{...}` (or `\fbox{...}`), braces matched; undefined when none closes. */
export function lastBoxed(text: string): string | undefined {
  const idx = Math.max(text.lastIndexOf('\\boxed'), text.lastIndexOf('\\fbox'));
  if (idx < 0) return undefined;
  let i = text.indexOf('{', idx);
  if (i < 0) return undefined;
  const start = ++i;
  for (let depth = 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i).trim();
  }
  return undefined;
}

/** Lower-case, whitespace collapsed: two problems equal after this are duplicates. */
export function normaliseProblemText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

function levelNumber(level: number | string): number | string {
  if (typeof level === 'number') return level;
  const m = /^\s*(?:level\s*)?(\d+)\s*$/i.exec(level);
  return m ? Number(m[1]) : level.trim().toLowerCase();
}

class RecordError extends Error {}

function scalarText(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  throw new RecordError(`field "${field}" must be a string or a number, got ${JSON.stringify(value)}`);
}

/** `row[path]`, or a nested field by a dotted path (`reward_model.ground_truth`). */
function getPath(row: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(row, path)) return row[path];
  let value: unknown = row;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function pick(row: Record<string, unknown>, names: string[]): [string, unknown] | undefined {
  for (const name of names) {
    const value = getPath(row, name);
    if (value !== undefined && value !== null) return [name, value];
  }
  return undefined;
}

/** The problem text: a string, or the last user turn of a chat message list (verl parquet `prompt`). */
function problemText(value: unknown, field: string): string {
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((m) => m && typeof m === 'object' && 'content' in m)
  ) {
    const user = [...value].reverse().find((m) => (m as { role?: unknown }).role === 'user') as
      | { content: unknown }
      | undefined;
    if (!user) throw new RecordError(`field "${field}" is a message list without a user message`);
    return scalarText(user.content, `${field}[].content`);
  }
  return scalarText(value, field);
}

function toProblem(row: unknown, fields: FieldMapping, fallbackId: string): Problem {
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    throw new RecordError(
      `expected a JSON object, got ${Array.isArray(row) ? 'an array' : JSON.stringify(row)}`,
    );
  const r = row as Record<string, unknown>;
  const problemNames = fields.problem ? [fields.problem] : ['problem', 'question', 'prompt'];
  const p = pick(r, problemNames);
  if (!p)
    throw new RecordError(
      `no problem text (looked for field ${problemNames.map((n) => `"${n}"`).join(', ')})`,
    );
  const problem = problemText(p[1], p[0]);
  if (problem.trim() === '') throw new RecordError(`field "${p[0]}" is empty`);

  let answer: string | undefined;
  const answerNames = fields.answer ? [fields.answer] : ['answer'];
  const solutionName = fields.solution ?? 'solution';
  const a = pick(r, answerNames);
  if (a) {
    // A one-element list is a common variant of single answers (e.g. AMC23 `"answer": ["27.0"]`).
    const value = Array.isArray(a[1]) && a[1].length === 1 ? a[1][0] : a[1];
    const text = scalarText(value, a[0]);
    const hashes = text.lastIndexOf('####');
    answer =
      hashes >= 0
        ? text
            .slice(hashes + 4)
            .trim()
            .replace(/,/g, '')
        : text.trim();
  } else if (!fields.answer && Array.isArray(r.final_answer) && r.final_answer.length > 0) {
    answer = scalarText(r.final_answer[0], 'final_answer[0]')
      .trim()
      .replace(/^\$+|\$+\.?$/g, '') // OlympiadBench: `$…$`, a few `$…$.`
      .trim();
  } else if (!fields.answer && pick(r, ['reward_model.ground_truth'])) {
    const truth = getPath(r, 'reward_model.ground_truth');
    answer = scalarText(Array.isArray(truth) ? truth[0] : truth, 'reward_model.ground_truth').trim();
  } else if (getPath(r, solutionName) !== undefined && getPath(r, solutionName) !== null) {
    answer = lastBoxed(scalarText(getPath(r, solutionName), solutionName));
    if (answer === undefined)
      throw new RecordError(`field "${solutionName}" has no closed \\boxed{...} answer`);
  }
  if (answer === undefined || answer === '')
    throw new RecordError(
      `no answer (looked for ${[...answerNames, ...(fields.answer ? [] : ['final_answer', 'reward_model.ground_truth'])].map((n) => `"${n}"`).join(', ')} and a \\boxed{} in "${solutionName}")`,
    );

  const idField = pick(r, fields.id ? [fields.id] : ['id', 'unique_id', 'idx']);
  const out: Problem = { id: idField ? scalarText(idField[1], idField[0]) : fallbackId, problem, answer };
  const level = r.level;
  if (typeof level === 'number' || typeof level === 'string') out.level = level;
  else if (typeof level === 'bigint') out.level = Number(level);
  const subject = r.subject ?? r.type ?? r.subfield;
  if (typeof subject === 'string') out.subject = subject;
  return out;
}

interface RawRecord {
  where: string;
  fallbackId: string;
  parse: () => unknown;
}

async function* jsonlRecords(path: string): AsyncGenerator<RawRecord> {
  const text = await readUtf8Strict(path, BAD_PROBLEM_LINE);
  const name = basename(path);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    yield {
      where: `${path}:${i + 1}`,
      fallbackId: `${name}:${i + 1}`,
      parse: () => {
        try {
          return JSON.parse(line) as unknown;
        } catch (err) {
          throw new RecordError(`invalid JSON: ${(err as Error).message}`);
        }
      },
    };
  }
}

async function* jsonArrayRecords(path: string): AsyncGenerator<RawRecord> {
  let rows: unknown;
  const text = await readUtf8Strict(path, BAD_PROBLEM_LINE);
  try {
    rows = JSON.parse(text);
  } catch (err) {
    throw new Error(`${BAD_PROBLEM_LINE}: ${path}: invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(rows)) throw new Error(`${BAD_PROBLEM_LINE}: ${path}: expected a JSON array of objects`);
  const name = basename(path);
  for (let i = 0; i < rows.length; i++)
    yield { where: `${path}:[${i}]`, fallbackId: `${name}:${i}`, parse: () => rows[i] };
}

async function* parquetRecords(path: string): AsyncGenerator<RawRecord> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: await asyncBufferFromFile(path), compressors });
  } catch (err) {
    throw new Error(`${BAD_PROBLEM_LINE}: ${path}: cannot read Parquet: ${(err as Error).message}`);
  }
  const name = basename(path);
  for (let i = 0; i < rows.length; i++)
    yield { where: `${path}:row ${i + 1}`, fallbackId: `${name}:${i + 1}`, parse: () => rows[i] };
}

function recordsOf(path: string): AsyncGenerator<RawRecord> {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return jsonlRecords(path);
  if (ext === '.json') return jsonArrayRecords(path);
  if (ext === '.parquet') return parquetRecords(path);
  throw new Error(
    `${path}: unknown problems file type "${ext}" (expected .jsonl, .ndjson, .json or .parquet)`,
  );
}

/** Loads problems with counts of what was skipped, filtered and de-duplicated. */
export async function loadProblemsReport(
  path: string,
  opts: LoadProblemsOptions = {},
): Promise<LoadProblemsReport> {
  const fields = opts.fields ?? {};
  const levels = opts.levels ? new Set(opts.levels.map(levelNumber)) : undefined;
  const subjects = opts.subjects ? new Set(opts.subjects.map((s) => s.trim().toLowerCase())) : undefined;
  const dedup = opts.dedup ?? true;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  const report: LoadProblemsReport = {
    problems: [],
    numRecords: 0,
    numBad: 0,
    badExamples: [],
    numDuplicates: 0,
    numFiltered: 0,
  };
  for await (const rec of recordsOf(path)) {
    if (report.problems.length >= limit) break;
    report.numRecords++;
    let problem: Problem;
    try {
      problem = toProblem(rec.parse(), fields, rec.fallbackId);
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      const msg = `${rec.where}: ${err.message}`;
      if (opts.onBadLine !== 'skip') throw new Error(`${BAD_PROBLEM_LINE}: ${msg}`);
      report.numBad++;
      if (report.badExamples.length < 5) report.badExamples.push(msg);
      continue;
    }
    if (levels && (problem.level === undefined || !levels.has(levelNumber(problem.level)))) {
      report.numFiltered++;
      continue;
    }
    if (subjects && (problem.subject === undefined || !subjects.has(problem.subject.trim().toLowerCase()))) {
      report.numFiltered++;
      continue;
    }
    if (dedup) {
      const key = normaliseProblemText(problem.problem);
      if (seen.has(key)) {
        report.numDuplicates++;
        continue;
      }
      seen.add(key);
    }
    report.problems.push(problem);
  }
  return report;
}

/** Problems of a JSONL, JSON-array or Parquet file (by extension); see LoadProblemsOptions. */
export async function loadProblems(path: string, opts: LoadProblemsOptions = {}): Promise<Problem[]> {
  return (await loadProblemsReport(path, opts)).problems;
}
