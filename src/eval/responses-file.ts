/**
 * Reads a file of existing responses (`--responses FILE.jsonl`) and matches each line to a benchmark
 * problem, so outputs of any model (vLLM, an API, another harness) are graded like our own.
 *
 * One JSON object per line: `response` (string, required) and `id` (string or number) or `problem`
 * (the problem text; matched after lower-casing and collapsing whitespace). Optional: `benchmark`
 * (a built-in name or alias, or a custom LABEL; lines naming a benchmark that is not being evaluated
 * are skipped and counted), `finished` (false = hit the length limit), `num_tokens`. Several lines for
 * one problem are its samples, in file order. `responses.jsonl` written by `simplerl eval` has this
 * layout, so an eval can be re-scored.
 */
import { readFile } from 'node:fs/promises';
import { normaliseProblemText } from '../data/problems.ts';
import { type Benchmark, resolveBenchmarkName } from './benchmarks.ts';

export const BAD_RESPONSE_LINE = 'bad responses line';
export const MISSING_RESPONSES = 'problems without responses';

export interface Sample {
  response: string;
  finished?: boolean;
  numTokens?: number;
}

export interface ResponsesFile {
  /** benchmark name → problem id → samples in file order. */
  samples: Map<string, Map<string, Sample[]>>;
  numLines: number;
  /** Lines whose `benchmark` is not among the evaluated ones (and, with skipUnmatched, lines of no problem). */
  numSkipped: number;
}

function benchmarkKey(name: string, loaded: readonly Benchmark[]): string | undefined {
  const direct = loaded.find((b) => b.name === name);
  if (direct) return direct.name;
  try {
    const canonical = resolveBenchmarkName(name);
    return loaded.find((b) => b.name === canonical)?.name;
  } catch {
    return undefined;
  }
}

export interface ReadResponsesOptions {
  /** Skip (and count) lines whose problem is not found instead of failing: for benchmarks cut by --limit. */
  skipUnmatched?: boolean;
}

export async function readResponsesFile(
  path: string,
  benchmarks: readonly Benchmark[],
  opts: ReadResponsesOptions = {},
): Promise<ResponsesFile> {
  const byId = new Map<string, Map<string, string>>(); // benchmark → id → id
  const byText = new Map<string, Map<string, string>>(); // benchmark → normalised text → id
  const samples = new Map<string, Map<string, Sample[]>>();
  for (const b of benchmarks) {
    byId.set(b.name, new Map(b.problems.map((p) => [p.id, p.id])));
    byText.set(b.name, new Map(b.problems.map((p) => [normaliseProblemText(p.problem), p.id])));
    samples.set(b.name, new Map(b.problems.map((p) => [p.id, []])));
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read responses file ${path}: ${(err as Error).message}`);
  }
  const lines = text.split('\n');
  let numLines = 0;
  let numSkipped = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    numLines++;
    const where = `${path}:${i + 1}`;
    const fail = (why: string) => new Error(`${BAD_RESPONSE_LINE}: ${where}: ${why}`);
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw fail(`invalid JSON: ${(err as Error).message}`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw fail('expected a JSON object');
    if (typeof row.response !== 'string') throw fail('"response" must be a string');
    let candidates = benchmarks.map((b) => b.name);
    if (row.benchmark !== undefined) {
      if (typeof row.benchmark !== 'string') throw fail('"benchmark" must be a string');
      const key = benchmarkKey(row.benchmark, benchmarks);
      if (key === undefined) {
        numSkipped++;
        continue;
      }
      candidates = [key];
    }
    let matches: [string, string][];
    let what: string;
    if (row.id !== undefined && row.id !== null) {
      if (typeof row.id !== 'string' && typeof row.id !== 'number')
        throw fail('"id" must be a string or a number');
      const id = String(row.id);
      what = `id ${JSON.stringify(id)}`;
      matches = candidates.filter((b) => byId.get(b)?.has(id)).map((b) => [b, id]);
    } else if (typeof row.problem === 'string') {
      const key = normaliseProblemText(row.problem);
      what = `problem text ${JSON.stringify(row.problem.slice(0, 60))}`;
      matches = candidates.flatMap((b) => {
        const id = byText.get(b)?.get(key);
        return id === undefined ? [] : [[b, id] as [string, string]];
      });
    } else {
      throw fail('needs "id" or "problem" to find its problem');
    }
    if (matches.length === 0) {
      if (opts.skipUnmatched) {
        numSkipped++;
        continue;
      }
      throw fail(`no problem with ${what} in ${candidates.join(', ')}`);
    }
    if (matches.length > 1) {
      throw fail(
        `${what} matches problems of ${matches.map((m) => m[0]).join(' and ')}: add a "benchmark" field`,
      );
    }
    const sample: Sample = { response: row.response };
    if (row.finished !== undefined) {
      if (typeof row.finished !== 'boolean') throw fail('"finished" must be true or false');
      sample.finished = row.finished;
    }
    if (row.num_tokens !== undefined) {
      if (typeof row.num_tokens !== 'number' || !Number.isInteger(row.num_tokens) || row.num_tokens < 0) {
        throw fail('"num_tokens" must be a non-negative integer');
      }
      sample.numTokens = row.num_tokens;
    }
    const [bench, id] = matches[0];
    samples.get(bench)?.get(id)?.push(sample);
  }
  for (const b of benchmarks) {
    const missing = b.problems.filter((p) => samples.get(b.name)?.get(p.id)?.length === 0).map((p) => p.id);
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).map((id) => JSON.stringify(id));
      throw new Error(
        `${MISSING_RESPONSES}: ${path}: ${missing.length} of ${b.problems.length} ${b.name} problems have no response ` +
          `(${shown.join(', ')}${missing.length > 5 ? ', …' : ''}); use --limit or a custom LABEL=PATH benchmark to score a subset`,
      );
    }
  }
  return { samples, numLines, numSkipped };
}
