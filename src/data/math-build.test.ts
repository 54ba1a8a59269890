import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parquetWriteFile } from 'hyparquet-writer';
import {
  BAD_EXCLUDE_FILE,
  buildMathSet,
  DEFAULT_MATH_OUT,
  DEFAULT_MATH500_FILE,
  MATH_SOURCE_NOT_FOUND,
  type MathManifest,
  type MathRecord,
  manifestPath,
  readExcludeFile,
  readMathSource,
  serialiseRows,
  sha256Hex,
  textHash,
  writeMathSet,
} from './math-build.ts';
import { loadProblems } from './problems.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'tests', 'fixtures', 'math-source');
const SHIPPED = join(ROOT, DEFAULT_MATH_OUT);

const record = (source: string, level: string, solution: string, problem = `P ${source}`): MathRecord => ({
  source,
  problem,
  level,
  subject: 'Algebra',
  solution,
});

describe('buildMathSet', () => {
  const none = { ids: new Set<string>(), hashes: new Set<string>() };

  test('drops other levels, MATH500 members (by id or text), missing or empty boxes and duplicates', () => {
    const exclude = { ids: new Set(['test/algebra/2.json']), hashes: new Set([textHash('  In MATH500 ')]) };
    const b = buildMathSet(
      [
        record('train/algebra/1.json', 'Level 3', 'so $\\boxed{5}$.'),
        record('train/algebra/2.json', 'Level ?', '\\boxed{1}'),
        record('train/algebra/3.json', 'Level 2', '\\boxed{1}'),
        record('train/algebra/4.json', 'Level 4', 'no box here'),
        record('train/algebra/5.json', 'Level 4', 'empty \\boxed{ }'),
        record('train/algebra/6.json', 'Level 5', '\\boxed{2}', 'in  math500'),
        record('test/algebra/2.json', 'Level 5', '\\boxed{2}'),
        record(
          'test/algebra/3.json',
          'Level 5',
          'roots $\\boxed{-2}$ and $\\boxed{1}$',
          'P train/algebra/1.JSON',
        ),
        record('test/algebra/4.json', 'Level 5', '$\\boxed{-2}$ and $\\boxed{1}$'),
      ],
      exclude,
    );
    assert.deepEqual(
      b.rows.map((r) => [r.source, r.answer, r.level]),
      [
        ['train/algebra/1.json', '5', 3],
        ['test/algebra/4.json', '-2,1', 5],
      ],
    );
    assert.deepEqual(b.counts, {
      numRecords: 9,
      numOtherLevel: 2,
      numMath500: 2,
      numNoAnswer: 2,
      numDuplicates: 1,
      numRows: 2,
    });
    assert.equal(b.numMath500Found, 2);
    assert.equal(buildMathSet([record('a', 'Level 3', '\\boxed{1}')], none, [4]).rows.length, 0);
  });

  test('rows serialise with a fixed key order, one per line', () => {
    const rec = record('train/x/1.json', 'Level 3', '\\boxed{7}');
    const text = serialiseRows(buildMathSet([rec], none).rows);
    assert.equal(
      text,
      '{"problem":"P train/x/1.json","answer":"7","level":3,"subject":"Algebra","source":"train/x/1.json"}\n',
    );
  });
});

describe('simplerl data math on real MATH files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-math-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the original layout rebuilds the checked subset byte for byte', async () => {
    const out = join(dir, 'subset.jsonl');
    const m = await writeMathSet({
      source: FIXTURE,
      out,
      exclude: DEFAULT_MATH500_FILE,
      buildCommand: 'test',
    });
    const expected = readFileSync(join(FIXTURE, 'expected.jsonl'));
    assert.equal(readFileSync(out, 'utf8'), expected.toString('utf8'));
    assert.equal(m.sha256, sha256Hex(expected));
    assert.deepEqual(m.counts, {
      numRecords: 33,
      numOtherLevel: 9, // 7 at levels 1-2 (two of them MATH500 members), both `Level ?`
      numMath500: 2, // test/intermediate_algebra/1994, test/algebra/2584
      numNoAnswer: 2, // train/number_theory/7115 and 7117: `\boxed{}`
      numDuplicates: 2, // train/algebra/24377, test/precalculus/24307
      numRows: 18,
    });
    assert.equal(m.math500.numFoundInSource, 4);
    assert.ok(existsSync(manifestPath(out)));
  });

  test('the Parquet layout gives the same rows (sources name file and row)', async () => {
    const records = await readMathSource(FIXTURE);
    for (const split of ['train', 'test']) {
      const rows = records.filter((r) => r.source.startsWith(`${split}/`));
      const column = (name: keyof MathRecord) => ({
        name,
        data: rows.map((r) => r[name]),
        type: 'STRING' as const,
      });
      await mkdir(join(dir, 'pq', split), { recursive: true });
      parquetWriteFile({
        filename: join(dir, 'pq', split, '0000.parquet'),
        columnData: [
          column('problem'),
          column('level'),
          { ...column('subject'), name: 'type' },
          column('solution'),
        ],
      });
    }
    const exclude = readExcludeFile(DEFAULT_MATH500_FILE);
    const fromParquet = buildMathSet(await readMathSource(join(dir, 'pq')), exclude);
    const fromJson = buildMathSet(records, exclude);
    const strip = (rows: typeof fromJson.rows) => rows.map(({ source: _s, ...rest }) => rest);
    assert.deepEqual(strip(fromParquet.rows), strip(fromJson.rows));
    assert.deepEqual(fromParquet.counts, fromJson.counts);
    assert.match(fromParquet.rows[0].source, /^train\/0000\.parquet:row \d+$/);
  });
});

describe('bad MATH input names the file and field', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-math-bad-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('missing folder, no layout, bad JSON, missing field, unreadable Parquet, split not named', async () => {
    await assert.rejects(readMathSource(join(dir, 'nope')), new RegExp(MATH_SOURCE_NOT_FOUND));
    await assert.rejects(readMathSource(dir), /has neither train\/ and test\/ folders nor \.parquet files/);
    for (const split of ['train', 'test']) await mkdir(join(dir, split, 'algebra'), { recursive: true });
    await writeFile(join(dir, 'test', 'algebra', '1.json'), '{"problem": "P", "level": "Level 3"}');
    await writeFile(join(dir, 'train', 'algebra', '1.json'), '{"problem": ');
    await assert.rejects(readMathSource(dir), /bad MATH record: .*train\/algebra\/1\.json: invalid JSON/);
    await writeFile(
      join(dir, 'train', 'algebra', '1.json'),
      '{"problem": "P", "level": "Level 3", "type": "Algebra", "solution": "\\\\boxed{1}"}',
    );
    await assert.rejects(
      readMathSource(dir),
      /bad MATH record: test\/algebra\/1\.json: field "type" must be a string/,
    );
    await mkdir(join(dir, 'pq', 'train'), { recursive: true });
    await writeFile(join(dir, 'pq', 'train', 'x.parquet'), 'not parquet');
    await assert.rejects(
      readMathSource(join(dir, 'pq')),
      /bad MATH record: .*x\.parquet: cannot read Parquet/,
    );
    await writeFile(join(dir, 'pq', 'other.parquet'), 'x');
    await assert.rejects(readMathSource(join(dir, 'pq')), /other\.parquet: cannot tell train from test/);
    assert.throws(() => readExcludeFile(join(dir, 'none.jsonl')), new RegExp(BAD_EXCLUDE_FILE));
  });
});

describe('the shipped training set', () => {
  const manifest = JSON.parse(readFileSync(manifestPath(SHIPPED), 'utf8')) as MathManifest;
  const bytes = readFileSync(SHIPPED);

  test('matches its manifest (count, sha256, the MATH500 list it left out)', () => {
    assert.equal(sha256Hex(bytes), manifest.sha256);
    assert.equal(bytes.length, manifest.bytes);
    assert.equal(bytes.toString('utf8').split('\n').length - 1, manifest.count);
    assert.equal(manifest.math500.sha256, sha256Hex(readFileSync(DEFAULT_MATH500_FILE)));
    assert.equal(manifest.math500.numFoundInSource, 500);
    assert.equal(manifest.source.commit, 'e8c4e3c2d19739d3dff59e577d1c97090cc15f59');
  });

  test('loads through the training loader as configs/zero.yaml reads it, with no MATH500 problem', async () => {
    const problems = await loadProblems(SHIPPED, { levels: [3, 4, 5], dedup: true });
    assert.equal(problems.length, manifest.count);
    const m500 = readExcludeFile(DEFAULT_MATH500_FILE);
    assert.ok(problems.every((p) => !m500.hashes.has(textHash(p.problem))));
    for (const config of ['zero.yaml', 'warmup.yaml'])
      assert.match(readFileSync(join(ROOT, 'configs', config), 'utf8'), /train: data\/math-level3to5\.jsonl/);
  });

  // The full source (12,500 files, 10.8 MB) is not in the repository: set SIMPLERL_MATH_SOURCE to its
  // folder (see README, "Training data") to rebuild the shipped file byte for byte (~5 s).
  const source = process.env.SIMPLERL_MATH_SOURCE;
  test('rebuilds byte for byte from the full source', {
    skip: !source && 'SIMPLERL_MATH_SOURCE not set',
  }, async () => {
    const records = await readMathSource(source as string);
    const build = buildMathSet(records, readExcludeFile(DEFAULT_MATH500_FILE));
    assert.equal(sha256Hex(serialiseRows(build.rows)), manifest.sha256);
    assert.deepEqual(build.counts, manifest.counts);
  });
});
