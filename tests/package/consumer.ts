// A TypeScript consumer of the installed package: tests/package.test.ts type-checks it with tsc
// against the package's own .d.ts files (resolved through `exports`), never against src/.
import {
  type AdvantageInput,
  type Config,
  type CustomReward,
  computeAdvantages,
  Grader,
  loadConfig,
  type MetricsRow,
  runTraining,
  TextTokenizer,
  type TrainHooks,
  type Verdict,
  verify,
} from 'simplerl';

const verdict: Verdict = verify('1/2', '\\boxed{0.5}');
const correct: boolean = verdict.correct;
const input: AdvantageInput = {
  tokenRewards: Float32Array.from([1, 0]),
  responseOffsets: Int32Array.from([0, 1, 2]),
  groupSize: 2,
};
const advantages: Float32Array = computeAdvantages('grpo', input).advantages;
const hooks: TrainHooks = {
  onStep: (row: MetricsRow) => console.log(row.step, row['reward/mean']),
};
const reward: CustomReward = (item) => (item.verdict.correct ? 1 : 0);
const config: Config = loadConfig('configs/zero.yaml');
const started: Promise<Grader> = Grader.create({ threads: 1 });
const loading: Promise<TextTokenizer> = TextTokenizer.fromDir('tokenizer-folder');
// the package's types are real, not `any`: a wrong use must be an error (else tsc reports this line)
// @ts-expect-error verdict.correct is a boolean
const wrong: string = verify('1', '1').correct;

export { advantages, config, correct, hooks, loading, reward, runTraining, started, wrong };
