// A custom reward is a .ts file in any folder: one in a CommonJS-scope folder (a package.json without
// "type": "module", or none at all) loads as CommonJS, where the default export sits one level down.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Grader } from '../src/reward/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'simplerl-reward-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const REWARD_TS =
  "import type { CustomReward } from 'simplerl';\n" +
  'const reward: CustomReward = (item) => (item.verdict.correct ? 2 : -2);\n' +
  'export default reward;\n';

for (const pkg of ['{"name":"cjs","private":true}', '{"type":"module"}', null]) {
  test(`a .ts custom reward loads beside package.json ${pkg ?? '(none)'}`, async () => {
    const folder = join(dir, `f${Math.random().toString(36).slice(2)}`);
    mkdirSync(folder);
    if (pkg !== null) writeFileSync(join(folder, 'package.json'), pkg);
    writeFileSync(join(folder, 'reward.ts'), REWARD_TS);
    const grader = await Grader.create({ threads: 1, customReward: join(folder, 'reward.ts') });
    try {
      const graded = await grader.grade([
        { gold: '3', response: '\\boxed{3}', finished: true },
        { gold: '3', response: '\\boxed{4}', finished: true },
      ]);
      assert.deepEqual(
        graded.map((g) => g.reward),
        [2, -2],
      );
    } finally {
      await grader.close();
    }
  });
}
