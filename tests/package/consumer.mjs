// A plain-Node ESM consumer of the installed package (tests/package.test.ts copies it into a fresh
// project). Prints one JSON line the test checks.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADVANTAGE_ESTIMATOR_NAMES,
  computeAdvantages,
  ENGINE_DIR,
  EngineClient,
  Grader,
  loadConfig,
  renderPrompt,
  runTraining,
  verify,
} from 'simplerl';

const dir = process.argv[2];
const verdict = verify('\\frac{1}{2}', 'so the answer is \\boxed{0.5}');
// a custom reward written in TypeScript, in a folder with no "type": "module" package.json
const rewardFile = join(dir, 'rewards', 'double.ts');
writeFileSync(
  rewardFile,
  'export default function reward(item: { verdict: { correct: boolean } }): number {\n' +
    '  return item.verdict.correct ? 2 : -2;\n}\n',
);
const grader = await Grader.create({ threads: 1, customReward: rewardFile });
const [graded] = await grader.grade([{ gold: '3', response: '\\boxed{3}', finished: true }]);
await grader.close();
const cfg = loadConfig(join(dir, 'node_modules', 'simplerl', 'configs', 'zero.yaml'));
const adv = computeAdvantages('grpo', {
  tokenRewards: Float32Array.from([1, 0]),
  responseOffsets: Int32Array.from([0, 1, 2]),
  groupSize: 2,
});
const engine = await EngineClient.start({ device: 'cpu', threads: 1 });
const hello = await engine.hello();
await engine.shutdown();
console.log(
  JSON.stringify({
    correct: verdict.correct,
    customReward: graded.reward,
    algo: cfg.algo.name,
    estimators: ADVANTAGE_ESTIMATOR_NAMES,
    advantages: Array.from(adv.advantages),
    prompt: renderPrompt('qwen25-math-cot', 'What is 1+1?').length > 0,
    runTraining: typeof runTraining,
    engineDir: ENGINE_DIR,
    engineProtocol: hello.protocol,
  }),
);
