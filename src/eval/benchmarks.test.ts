import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  BENCHMARK_NOT_FOUND,
  DUPLICATE_PROBLEM_ID,
  downloadBenchmark,
  HUB_DOWNLOAD_FAILED,
  loadBenchmark,
  resolveBenchmarkName,
  UNKNOWN_BENCHMARK,
} from './benchmarks.ts';
import { loadBenchmarks } from './run-eval.ts';

const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

// One or two records per benchmark in the public layouts (text shortened from the real first lines).
const FIXTURES: Record<string, object[]> = {
  math500: [
    {
      problem: 'Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.',
      solution: 'We have $r = 3$ ... so $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$',
      answer: '\\left( 3, \\frac{\\pi}{2} \\right)',
      subject: 'Precalculus',
      level: 2,
      unique_id: 'test/precalculus/807.json',
    },
  ],
  gsm8k: [
    {
      question: 'Janet’s ducks lay 16 eggs per day. ... How much in dollars does she make every day?',
      answer: 'Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n#### 18',
      idx: 0,
    },
    { question: 'A robe takes 2 bolts ...', answer: 'It takes 2/2=1 bolt... \n#### 1,230', idx: 1 },
  ],
  aime24: [
    {
      id: 60,
      problem: 'Every morning Aya goes for a $9$-kilometer-long walk ...',
      solution: '...',
      answer: '204',
      url: 'https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_1',
      question: 'Every morning Aya goes for a $9$-kilometer-long walk ...',
    },
  ],
  amc23: [
    {
      id: 0,
      problem: 'Cities $A$ and $B$ are $45$ miles apart. ...',
      answer: 27.0,
      url: 'u',
      question: 'Cities...',
    },
    {
      id: 1,
      problem: 'Positive real numbers $x$ and $y$ ...',
      answer: 36.5,
      url: 'u',
      question: 'Positive...',
    },
  ],
  minerva_math: [
    {
      problem: 'Each of the two Magellan telescopes has a diameter of $6.5 \\mathrm{~m}$. ...',
      solution: 'A first guess $\\boxed{2}$ ... so $\\theta=\\boxed{\\frac{1.6}{1}}$ arcseconds.',
      type: 'Introduction to Astronomy (8.282J Spring 2006)',
      idx: 0,
    },
  ],
  olympiadbench: [
    {
      id: 2231,
      subfield: 'Combinatorics',
      context: null,
      question: 'In an increasing sequence of numbers with an odd number of terms, ...',
      solution: ['...'],
      final_answer: ['$25$'],
      is_multiple_answer: false,
      unit: null,
      answer_type: 'Numerical',
      error: null,
    },
  ],
};

const dataDir = mkdtempSync(join(tmpdir(), 'simplerl-bench-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
// Qwen2.5-Math layout for four of them, flat files for the other two.
for (const name of ['math500', 'gsm8k', 'aime24', 'minerva_math']) {
  mkdirSync(join(dataDir, name));
  writeFileSync(join(dataDir, name, 'test.jsonl'), jsonl(FIXTURES[name]));
}
writeFileSync(join(dataDir, 'amc23.jsonl'), jsonl(FIXTURES.amc23));
writeFileSync(join(dataDir, 'olympiadbench.jsonl'), jsonl(FIXTURES.olympiadbench));

describe('loadBenchmark (public layouts)', () => {
  it('reads each built-in layout and its gold answer', async () => {
    const golds: Record<string, [string, string][]> = {};
    for (const name of Object.keys(FIXTURES)) {
      const b = await loadBenchmark({ spec: name, dataDir });
      golds[name] = b.problems.map((p) => [p.id, p.gold]);
    }
    assert.deepEqual(golds, {
      math500: [['test/precalculus/807.json', '\\left( 3, \\frac{\\pi}{2} \\right)']],
      // "#### 18" -> "18"; "#### 1,230" -> "1230"
      gsm8k: [
        ['0', '18'],
        ['1', '1230'],
      ],
      aime24: [['60', '204']],
      // JSON 27.0 is the number 27 -> "27"; 36.5 -> "36.5"
      amc23: [
        ['0', '27'],
        ['1', '36.5'],
      ],
      // the last \boxed{...}, braces matched: "\frac{1.6}{1}" (not the earlier "2")
      minerva_math: [['0', '\\frac{1.6}{1}']],
      // final_answer[0] "$25$" with $ stripped
      olympiadbench: [['2231', '25']],
    });
  });

  it('keeps level and subject, warns on a count that differs from the release', async () => {
    const b = await loadBenchmark({ spec: 'MATH-500', dataDir });
    assert.equal(b.name, 'math500');
    assert.equal(b.title, 'MATH500');
    assert.equal(b.problems[0].level, 2);
    assert.equal(b.problems[0].subject, 'Precalculus');
    assert.equal(b.paths[0], join(dataDir, 'math500', 'test.jsonl'));
    assert.match(b.warning ?? '', /math500: 1 problems .* the public release has 500/);
  });

  it('loads any file as LABEL=PATH with a field mapping', async () => {
    const path = join(dataDir, 'custom.jsonl');
    writeFileSync(path, jsonl([{ key: 'a', q: 'What is 1+1?', gold: '2' }]));
    const b = await loadBenchmark({
      spec: `mine=${path}`,
      fields: { id: 'key', problem: 'q', answer: 'gold' },
    });
    assert.deepEqual(b.problems, [{ id: 'a', problem: 'What is 1+1?', gold: '2' }]);
    assert.equal(b.title, 'mine');
  });

  it('fails clearly on unknown names, missing files, bad lines and duplicate ids', async () => {
    assert.throws(
      () => resolveBenchmarkName('mmlu'),
      new RegExp(`^Error: ${UNKNOWN_BENCHMARK} "mmlu": valid names`),
    );
    assert.equal(resolveBenchmarkName('Minerva'), 'minerva_math');
    await assert.rejects(
      loadBenchmark({ spec: 'math500', dataDir: join(dataDir, 'nope') }),
      new RegExp(`${BENCHMARK_NOT_FOUND}: math500: looked for .*nope/math500/test.jsonl`),
    );
    const bad = join(dataDir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ problem: 'p', answer: '1' })}\n{oops\n`);
    await assert.rejects(loadBenchmark({ spec: `bad=${bad}` }), /bad\.jsonl:2: invalid JSON/);
    const dup = join(dataDir, 'dup.jsonl');
    writeFileSync(
      dup,
      jsonl([
        { id: 7, problem: 'a', answer: '1' },
        { id: 7, problem: 'b', answer: '2' },
      ]),
    );
    await assert.rejects(
      loadBenchmark({ spec: `dup=${dup}` }),
      new RegExp(`${DUPLICATE_PROBLEM_ID} "7": .*dup.jsonl problem 1 and .*dup.jsonl problem 2`),
    );
  });

  it('orders several benchmarks as the README table (AIME24, MATH500, ..., GSM8K, then custom)', async () => {
    const custom = join(dataDir, 'zz.jsonl');
    writeFileSync(custom, jsonl([{ problem: 'p', answer: '1' }]));
    const list = await loadBenchmarks({
      benchmarks: ['gsm8k', `zz=${custom}`, 'aime24', 'math500'],
      dataDir,
    });
    assert.deepEqual(
      list.map((b) => b.name),
      ['aime24', 'math500', 'gsm8k', 'zz'],
    );
    await assert.rejects(
      loadBenchmarks({ benchmarks: ['aime24', 'aime2024'], dataDir }),
      /aime24 is given twice/,
    );
  });

  it('limit keeps the first problems', async () => {
    const b = await loadBenchmark({ spec: 'gsm8k', dataDir, limit: 1 });
    assert.equal(b.problems.length, 1);
    assert.equal(b.warning, undefined);
  });
});

describe('downloadBenchmark (against a local server, no network)', () => {
  // The hub's layout for openai/gsm8k: Parquet with question, answer (no idx).
  const parquet = parquetWriteBuffer({
    columnData: [
      { name: 'question', data: ['Q one?', 'Q two?'], type: 'STRING' },
      { name: 'answer', data: ['so 3\n#### 3', 'so 4\n#### 4'], type: 'STRING' },
    ],
  });
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/api/datasets/openai/gsm8k/parquet/main/test') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([`${base}/files/test-0.parquet`]));
    } else if (req.url === '/files/test-0.parquet') {
      res.end(Buffer.from(parquet));
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  after(() => server.close());

  it('downloads into the cache once, then loads from it', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cacheDir = join(dataDir, 'cache');
    const paths = await downloadBenchmark('gsm8k', { cacheDir, endpoint });
    assert.deepEqual(paths, [join(cacheDir, 'hub', 'openai--gsm8k', 'main', 'test', '0000.parquet')]);
    assert.equal(
      JSON.parse(readFileSync(join(cacheDir, 'hub/openai--gsm8k/main/test/source.json'), 'utf8')).repo,
      'openai/gsm8k',
    );
    assert.equal(requests.length, 2);
    const b = await loadBenchmark({ spec: 'gsm8k', download: true, cacheDir, hubEndpoint: endpoint });
    assert.deepEqual(
      b.problems.map((p) => [p.id, p.problem, p.gold]),
      [
        ['0000.parquet:1', 'Q one?', '3'],
        ['0000.parquet:2', 'Q two?', '4'],
      ],
    );
    assert.equal(requests.length, 2, 'second load reads the cache');
    await assert.rejects(
      downloadBenchmark('math500', { cacheDir, endpoint }),
      new RegExp(
        `${HUB_DOWNLOAD_FAILED}: math500 \\(HuggingFaceH4/MATH-500 default/test\\): .* answered 404`,
      ),
    );
  });
});
