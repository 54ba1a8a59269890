// `simplerl analyze runs/<name>` and `simplerl analyze --responses FILE`: response behaviour (length,
// truncation, reflection, code blocks, boxed answers, repetition, accuracy) and its change over steps.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { parseList } from '../options.ts';

export const ANALYZE_USAGE = 'give a run folder (simplerl analyze runs/<name>) or --responses FILE, not both';

/** Where the analysis of a responses file goes: next to an eval's responses.jsonl, else FILE-analysis/. */
export function defaultResponsesOut(file: string): string {
  if (basename(file) === 'responses.jsonl') return join(dirname(file), 'analysis');
  return `${file.replace(/\.jsonl$/, '')}-analysis`;
}

interface AnalyzeCliOptions {
  responses?: string;
  out?: string;
  reflectionPhrases?: string[];
  json: boolean;
}

export function register(program: Command): void {
  program
    .command('analyze')
    .description(
      'response statistics of a run over its steps (rollouts/), or of a responses file (eval output): length ' +
        'distribution, truncation, reflection phrases, code blocks, boxed answers, repetition, accuracy. ' +
        'Writes analysis.json + analysis.md and prints the markdown.',
    )
    .argument('[run]', 'run folder runs/<name> (or an eval folder holding responses.jsonl)')
    .option(
      '--responses <file>',
      'analyse this JSONL of {"response", "num_tokens"?, "finished"?, "correct"?, "benchmark"?}',
    )
    .option('--out <dir>', 'output folder (default <run>/analysis, or next to the responses file)')
    .option(
      '--reflection-phrases <list>',
      'comma-separated phrases (default: v1 keywords + let me check, verify, ...)',
      parseList,
    )
    .option('--json', 'print the JSON instead of the markdown', false)
    .action(async (run: string | undefined, opts: AnalyzeCliOptions) => {
      if ((run === undefined) === (opts.responses === undefined)) throw new Error(ANALYZE_USAGE);
      const { analyzeResponses, analyzeRun } = await import('../../analysis/analyze.ts');
      const { writeAnalysis } = await import('../../analysis/render.ts');
      const summarize = { phrases: opts.reflectionPhrases };
      let responses = opts.responses;
      // An eval folder (responses.jsonl, no rollouts/) is analysed as its responses file.
      if (
        run !== undefined &&
        existsSync(join(run, 'responses.jsonl')) &&
        !existsSync(join(run, 'rollouts')) &&
        statSync(run).isDirectory()
      ) {
        responses = join(run, 'responses.jsonl');
      }
      const analysis = responses
        ? await analyzeResponses(responses, summarize)
        : await analyzeRun(run as string, summarize);
      const out = opts.out ?? (responses ? defaultResponsesOut(responses) : join(run as string, 'analysis'));
      const md = await writeAnalysis(out, analysis);
      process.stdout.write(opts.json ? `${JSON.stringify(analysis, null, 2)}\n` : md);
      process.stderr.write(`wrote ${join(out, 'analysis.json')} and ${join(out, 'analysis.md')}\n`);
    });
}
