// simplerl grade --input IN.jsonl --output OUT.jsonl [--extract boxed|any]
// Each input line: {"gold": string, "response": string, "finished"?: boolean, ...anything}.
// Each output line: the input plus correct, extracted, reason, reward (and formatted).
// Output line N is always input line N: a line that cannot be graded gives {error, correct: false}.
import { once } from 'node:events';
import { closeSync, createReadStream, createWriteStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
import { REWARD_FORMATS } from '../../reward/rules.ts';
import { type EXTRACT_MODES, extractOption, parsePositiveInt } from '../options.ts';

export const BAD_LINE = 'bad line';
export const CANNOT_READ_INPUT = 'simplerl grade: cannot read --input';
export const CANNOT_WRITE_OUTPUT = 'simplerl grade: cannot write --output';
const BATCH = 1024;

interface GradeCliOptions {
  input: string;
  output: string;
  extract: (typeof EXTRACT_MODES)[number];
  format?: (typeof REWARD_FORMATS)[number];
  threads?: number;
  timeoutMs: number;
  customReward?: string;
}

export function register(program: Command): void {
  program
    .command('grade')
    .description('grade model responses against gold answers (math verifier + reward table)')
    .requiredOption(
      '--input <file>',
      'JSONL with {"gold", "response"} per line (plus any other fields); - reads stdin',
    )
    .requiredOption(
      '--output <file>',
      'JSONL: each input line plus correct, extracted, reason, formatted, reward; - writes stdout',
    )
    .addOption(
      extractOption("answer extraction: 'boxed' (final \\boxed{} only) or 'any' (Math-Verify-like)", 'boxed'),
    )
    .addOption(
      new Option(
        '--format <rule>',
        "format rule of the reward table: 'strict' (default), 'original' (v0: contains `boxed`) or 'none'",
      ).choices(REWARD_FORMATS),
    )
    .option('--threads <n>', 'grader worker threads (default: cores - 1)', parsePositiveInt)
    .option('--timeout-ms <ms>', 'time budget per grading call', parsePositiveInt, 3000)
    .option(
      '--custom-reward <module>',
      'TS/JS module whose default export (item & {verdict}) => number gives the reward',
    )
    .action(async (opts: GradeCliOptions) => {
      await runGrade(opts);
    });
}

async function runGrade(opts: GradeCliOptions): Promise<void> {
  const extract = opts.extract;
  // Both files are opened before the grader starts, so a wrong path fails with its name (not a stack trace).
  // `-` is stdin / stdout, as for most Unix tools.
  const isStdin = opts.input === '-';
  const isStdout = opts.output === '-';
  try {
    if (!isStdin) closeSync(openSync(opts.input, 'r'));
  } catch (err) {
    throw new Error(`${CANNOT_READ_INPUT} ${opts.input}: ${(err as Error).message}`);
  }
  let outFd: number;
  try {
    outFd = isStdout ? 1 : openSync(opts.output, 'w');
  } catch (err) {
    throw new Error(`${CANNOT_WRITE_OUTPUT} ${opts.output}: ${(err as Error).message}`);
  }
  const { Grader } = await import('../../reward/index.ts');
  const started = performance.now();
  const grader = await Grader.create({
    extract,
    rules: opts.format ? { format: opts.format } : {},
    threads: opts.threads,
    timeoutMs: opts.timeoutMs,
    customReward: opts.customReward,
  }).catch((err: unknown) => {
    if (!isStdout) closeSync(outFd);
    throw err;
  });
  const out = createWriteStream('', { fd: outFd, autoClose: !isStdout });
  const stats = {
    lines: 0,
    bad: 0,
    graded: 0,
    correct: 0,
    noAnswer: 0,
    timeouts: 0,
    errors: 0,
    rewardSum: 0,
  };
  const source = isStdin ? 'stdin' : opts.input;
  // Bad lines stay in the batch (with their error) so that the output keeps the input's line order.
  let batch: { row: Record<string, unknown>; error?: string }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    const rows = items.filter((it) => it.error === undefined).map((it) => it.row);
    const graded = await grader.grade(
      rows.map((r) => ({
        gold: r.gold as string,
        response: r.response as string,
        finished: r.finished as boolean | undefined,
      })),
    );
    let i = -1;
    for (const it of items) {
      if (it.error !== undefined) {
        const line = `${JSON.stringify({ ...it.row, error: it.error, correct: false })}\n`;
        if (!out.write(line)) await once(out, 'drain');
        continue;
      }
      i++;
      const g = graded[i];
      stats.graded++;
      if (g.correct) stats.correct++;
      if (g.reason === 'no-answer') stats.noAnswer++;
      if (g.reason === 'timeout') stats.timeouts++;
      if (g.reason.startsWith('error')) stats.errors++;
      stats.rewardSum += g.reward;
      const line = `${JSON.stringify({ ...rows[i], correct: g.correct, extracted: g.extracted, reason: g.reason, formatted: g.formatted, reward: g.reward })}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
  };
  try {
    const input = isStdin ? process.stdin : createReadStream(opts.input);
    const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const text of rl) {
      stats.lines++;
      const { row, error } = parseRow(text);
      if (error === undefined) {
        batch.push({ row });
      } else {
        stats.bad++;
        const where = `${BAD_LINE} ${source}:${stats.lines}: ${error}`;
        console.error(`simplerl grade: ${where}`);
        batch.push({ row, error: where });
      }
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } finally {
    await grader.close();
    out.end();
    await once(out, 'finish');
  }
  const seconds = (performance.now() - started) / 1000;
  // A bad line counts as not correct: the accuracy is over every input line, as in the output file.
  const acc = stats.lines ? (100 * stats.correct) / stats.lines : 0;
  console.error(
    `simplerl grade: ${stats.lines} lines, ${stats.graded} graded, ${stats.bad} bad lines, ` +
      `correct ${stats.correct} (${acc.toFixed(2)}% of lines), ` +
      `no answer ${stats.noAnswer}, timeouts ${stats.timeouts}, errors ${stats.errors}, ` +
      `mean reward of graded ${(stats.graded ? stats.rewardSum / stats.graded : 0).toFixed(4)}, ${seconds.toFixed(2)} s → ${opts.output}`,
  );
}

/**
 * The row, and why it cannot be graded when it cannot (a JSON object keeps its fields, e.g. an id, in
 * the output row).
 */
function parseRow(text: string): { row: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return { row: {}, error: 'empty line' };
  let row: unknown;
  try {
    row = JSON.parse(text);
  } catch (err) {
    return { row: {}, error: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    return { row: {}, error: 'not a JSON object' };
  const r = row as Record<string, unknown>;
  if (typeof r.gold === 'number' && Number.isFinite(r.gold)) r.gold = String(r.gold); // AMC23 stores golds as numbers
  if (typeof r.gold !== 'string') return { row: r, error: 'field "gold" must be a string' };
  if (typeof r.response !== 'string') return { row: r, error: 'field "response" must be a string' };
  if (r.finished !== undefined && typeof r.finished !== 'boolean')
    return { row: r, error: 'field "finished" must be a boolean' };
  return { row: r };
}
