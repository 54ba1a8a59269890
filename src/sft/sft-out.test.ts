import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkSftOut, runSft, SFT_MARKER, SFT_OUT_ERROR } from './sft.ts';

describe('sft --out: never replaces a folder sft did not write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-sft-out-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, 'model');
  mkdirSync(model);

  test('a non-empty folder without the marker is refused, by name, before anything runs', async () => {
    const out = join(dir, 'notes');
    mkdirSync(out);
    writeFileSync(join(out, 'todo.txt'), 'keep me');
    // no engine, model or data is needed: the check comes first
    await assert.rejects(
      runSft({ model, data: join(dir, 'none.jsonl'), out }),
      (err: Error) =>
        err.message.startsWith(`${SFT_OUT_ERROR} ${out}: exists, is not empty`) &&
        err.message.includes('choose another --out'),
    );
    assert.equal(readFileSync(join(out, 'todo.txt'), 'utf8'), 'keep me');
  });

  test('the --model folder and a file are refused', () => {
    assert.throws(() => checkSftOut(model, model), /is the --model folder/);
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => checkSftOut(join(dir, 'file'), model), /exists and is not a folder/);
  });

  test('a missing folder, an empty one and an earlier sft output are accepted', () => {
    checkSftOut(join(dir, 'new'), model);
    mkdirSync(join(dir, 'empty'));
    checkSftOut(join(dir, 'empty'), model);
    const earlier = join(dir, 'earlier');
    mkdirSync(earlier);
    writeFileSync(join(earlier, 'model.safetensors'), '');
    writeFileSync(join(earlier, SFT_MARKER), '');
    checkSftOut(earlier, model);
  });
});
