// `simplerl distill`: sample solutions from a teacher endpoint, keep the verified ones as SFT data.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { TEACHER_APIS, type TeacherApi } from '../../sft/completions-client.ts';
import { collect, type EXTRACT_MODES, extractOption, parseInteger, parsePositiveInt } from '../options.ts';

function parseNonNegative(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0, got ${text}`);
  return n;
}

interface DistillCliOptions {
  teacher: string;
  teacherApi: TeacherApi;
  model: string;
  data: string;
  out: string;
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  promptTemplate?: string;
  tokenizer?: string;
  sftPromptTemplate?: string;
  studentTokenizer?: string;
  stop: string[];
  batchSize: number;
  concurrency: number;
  maxPerProblem?: number;
  seed?: number;
  limit?: number;
  problemField?: string;
  answerField?: string;
  solutionField?: string;
  extract: (typeof EXTRACT_MODES)[number];
  resume?: boolean;
}

export function register(program: Command): void {
  program
    .command('distill')
    .description(
      'sample solutions from an OpenAI-compatible completions endpoint (e.g. `simplerl serve` or vLLM), keep only ' +
        'those the verifier accepts (correct and finished), and write SFT data: {prompt, response, problem_id, problem} per line.',
    )
    .requiredOption(
      '--teacher <url>',
      'server base URL, e.g. http://127.0.0.1:8000 (or .../v1, .../v1/completions)',
    )
    .addOption(
      new Option(
        '--teacher-api <api>',
        'completions: prompts rendered here (--prompt-template) go to /v1/completions; chat: each problem is one user message ' +
          '(--prompt-template, default "{input}\\n" + the math instruction) to /v1/chat/completions, rendered by the teacher',
      )
        .choices(TEACHER_APIS)
        .default('completions'),
    )
    .requiredOption('--model <name>', 'model name sent in the requests (see GET /v1/models)')
    .requiredOption(
      '--data <problems>',
      'problems file: .jsonl, .json or .parquet (problem/question + answer or solution)',
    )
    .requiredOption('--out <sft.jsonl>', 'output JSONL of verified solutions')
    .option('--n <k>', 'samples per problem', parsePositiveInt, 4)
    .option('--temperature <t>', 'sampling temperature', parseNonNegative, 0.7)
    .option('--top-p <p>', 'nucleus sampling', parseNonNegative, 1)
    .option('--max-tokens <n>', 'max new tokens per sample', parsePositiveInt, 2048)
    .option(
      '--prompt-template <name|string>',
      'qwen25-math-cot | qwen-boxed | abel | plain | chat | a string with {input} (default qwen25-math-cot; with --teacher-api chat, the user message)',
    )
    .option('--tokenizer <dir>', 'tokenizer folder whose chat template `--prompt-template chat` renders')
    .option(
      '--sft-prompt-template <name|string>',
      "template of the prompt written to the SFT data, when the student is prompted differently (default: the teacher's prompt)",
    )
    .option(
      '--student-tokenizer <dir>',
      'tokenizer folder whose chat template `--sft-prompt-template chat` renders',
    )
    .option('--stop <text>', 'stop string sent to the teacher (repeatable)', collect, [])
    .option('--batch-size <k>', 'problems per request', parsePositiveInt, 8)
    .option('--concurrency <k>', 'requests in flight', parsePositiveInt, 2)
    .option(
      '--max-per-problem <k>',
      'keep at most k verified solutions per problem (default: all)',
      parsePositiveInt,
    )
    .option('--seed <n>', 'sampling seed (request b uses seed + b * batch size)', parseInteger, 0)
    .option('--limit <k>', 'use the first k problems', parsePositiveInt)
    .option('--problem-field <name>', 'field of the problem text (default problem, then question)')
    .option(
      '--answer-field <name>',
      'field of the gold answer (default answer / final_answer / boxed solution)',
    )
    .option('--solution-field <name>', 'field whose last \\boxed{} is the gold (default solution)')
    .addOption(extractOption('answer extraction of the verifier', 'boxed'))
    .option('--resume', 'continue an interrupted run from OUT.partial (same settings required)')
    .action(async (opts: DistillCliOptions) => {
      const { runDistill } = await import('../../sft/distill.ts');
      const tokenizer = opts.tokenizer
        ? await (await import('../../tokenizer/tokenizer.ts')).TextTokenizer.fromDir(opts.tokenizer)
        : undefined;
      const studentTokenizer = opts.studentTokenizer
        ? await (await import('../../tokenizer/tokenizer.ts')).TextTokenizer.fromDir(opts.studentTokenizer)
        : undefined;
      const extract = opts.extract;
      // Ctrl-C stops before the next request; the finished batches stay in OUT.partial for --resume.
      const controller = new AbortController();
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write(
          '\ndistill: stopping after the requests in flight (again to quit now); --resume continues\n',
        );
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      const stats = await runDistill({
        teacher: opts.teacher,
        teacherApi: opts.teacherApi,
        model: opts.model,
        data: opts.data,
        out: opts.out,
        n: opts.n,
        temperature: opts.temperature,
        topP: opts.topP,
        maxTokens: opts.maxTokens,
        promptTemplate: opts.promptTemplate,
        tokenizer,
        sftPromptTemplate: opts.sftPromptTemplate,
        studentTokenizer,
        stop: opts.stop,
        batchSize: opts.batchSize,
        concurrency: opts.concurrency,
        maxPerProblem: opts.maxPerProblem,
        seed: opts.seed,
        limit: opts.limit,
        fields: { problem: opts.problemField, answer: opts.answerField, solution: opts.solutionField },
        apiKey: process.env.OPENAI_API_KEY,
        grader: { extract },
        resume: opts.resume,
        signal: controller.signal,
        onProgress: (s) =>
          process.stderr.write(
            `\rdistill: ${s.numProblemsDone}/${s.numProblems} problems, ${s.numCorrect}/${s.numSamples} correct, ${s.numKept} kept, ${s.seconds.toFixed(0)} s`,
          ),
      });
      process.off('SIGINT', onSignal);
      process.stderr.write('\n');
      process.stdout.write(`${JSON.stringify(stats)}\n`);
    });
}
