/**
 * Benchmark loaders: GSM8K, MATH500, Minerva Math, OlympiadBench, AIME24, AMC23 in the layouts of
 * their public releases, plus any JSONL / JSON / Parquet file with a field mapping.
 *
 * Where the files are looked for, under `--data DIR` (default: the shipped copies in data/bench), first match wins:
 *   DIR/<name>/test.jsonl   (the layout of Qwen2.5-Math's `evaluation/data/`, used by both SimpleRL branches)
 *   DIR/<name>.jsonl
 *   DIR/<name>/test.parquet
 *   DIR/<name>.parquet
 * Reading and field mapping are `loadProblems` (src/data/problems.ts); de-duplication is off, since a
 * benchmark's problem count is part of its definition.
 *
 * Layouts (one problem per line) and where the gold answer comes from:
 *   math500        problem, solution, answer, subject, level, unique_id (500 lines). Gold: `answer`
 *                  (in the public release it is the last `\boxed{}` of `solution`, the harness's gold;
 *                  without an `answer` field the loader takes that box). Id: unique_id.
 *   gsm8k          question, answer, idx (1319 lines). Gold: text after `####` in `answer`, thousands
 *                  commas removed. Id: idx (the hub Parquet has no idx: `<file>:<row>`).
 *   aime24         id, problem, solution, answer, url, question (30 lines). Gold: `answer` (string).
 *   amc23          id, problem, answer, url, question (40 lines). Gold: `answer`, a JSON number such
 *                  as 27.0, read as "27".
 *   minerva_math   problem, solution, type, idx (272 lines). Gold: last `\boxed{}` of `solution`.
 *   olympiadbench  id, subfield, context, question, solution, final_answer (list), is_multiple_answer,
 *                  unit, answer_type, error (675 lines). Gold: `final_answer[0]` with `$` stripped.
 *
 * Hub download (`downloadBenchmark`): the Hugging Face hub's Parquet listing API
 * `GET {endpoint}/api/datasets/{repo}/parquet/{config}/{split}` gives the URLs of the dataset's Parquet
 * files (its automatic conversion, so no file path inside the repo has to be known); each is saved
 * under `{cacheDir}/hub/{owner}--{name}/{config}/{split}/` and read from there on later runs.
 * `HF_ENDPOINT` overrides the endpoint and `HF_TOKEN` is sent for gated datasets.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type FieldMapping, loadProblems } from '../data/problems.ts';

export const UNKNOWN_BENCHMARK = 'unknown benchmark';
export const BENCHMARK_NOT_FOUND = 'benchmark file not found';
export const DUPLICATE_PROBLEM_ID = 'duplicate problem id';
export const HUB_DOWNLOAD_FAILED = 'hub download failed';

/** The six public benchmark files shipped with simplerl (data/bench/README.md): used when no --data is given. */
export const SHIPPED_BENCHMARK_DIR = join(import.meta.dirname, '..', '..', 'data', 'bench');

export const BENCHMARK_NAMES = [
  'aime24',
  'math500',
  'amc23',
  'minerva_math',
  'olympiadbench',
  'gsm8k',
] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export interface HubSource {
  repo: string;
  config: string;
  split: string;
}

export interface BenchmarkSpec {
  name: BenchmarkName;
  /** Column title in results.md (the original README's names). */
  title: string;
  /** Problem count of the public release (a warning, not an error, when a file differs). */
  numProblems: number;
  fields: FieldMapping;
  hub: HubSource;
}

/** Column order follows the v0 README table (AIME24 | MATH500 | AMC23 | Minerva | OlympiadBench), GSM8K last. */
export const BENCHMARKS: Record<BenchmarkName, BenchmarkSpec> = {
  aime24: {
    name: 'aime24',
    title: 'AIME24',
    numProblems: 30,
    fields: {},
    hub: { repo: 'HuggingFaceH4/aime_2024', config: 'default', split: 'train' },
  },
  math500: {
    name: 'math500',
    title: 'MATH500',
    numProblems: 500,
    fields: {},
    hub: { repo: 'HuggingFaceH4/MATH-500', config: 'default', split: 'test' },
  },
  amc23: {
    name: 'amc23',
    title: 'AMC23',
    numProblems: 40,
    fields: {},
    hub: { repo: 'zwhe99/amc23', config: 'default', split: 'test' },
  },
  minerva_math: {
    name: 'minerva_math',
    title: 'Minerva',
    numProblems: 272,
    fields: {},
    hub: { repo: 'math-ai/minervamath', config: 'default', split: 'test' },
  },
  olympiadbench: {
    name: 'olympiadbench',
    title: 'OlympiadBench',
    numProblems: 675,
    fields: { problem: 'question' },
    hub: { repo: 'Hothan/OlympiadBench', config: 'OE_TO_maths_en_COMP', split: 'train' },
  },
  gsm8k: {
    name: 'gsm8k',
    title: 'GSM8K',
    numProblems: 1319,
    fields: {},
    hub: { repo: 'openai/gsm8k', config: 'main', split: 'test' },
  },
};

const ALIASES: Record<string, BenchmarkName> = {
  'math-500': 'math500',
  math_500: 'math500',
  minerva: 'minerva_math',
  minervamath: 'minerva_math',
  'minerva-math': 'minerva_math',
  olympiad: 'olympiadbench',
  olympiad_bench: 'olympiadbench',
  aime: 'aime24',
  aime2024: 'aime24',
  aime_2024: 'aime24',
  amc: 'amc23',
  amc2023: 'amc23',
  gsm: 'gsm8k',
};

/** The canonical name of a built-in benchmark (aliases such as `minerva`, `aime2024` accepted). */
export function resolveBenchmarkName(name: string): BenchmarkName {
  const key = name.trim().toLowerCase();
  if ((BENCHMARK_NAMES as readonly string[]).includes(key)) return key as BenchmarkName;
  const alias = ALIASES[key];
  if (alias) return alias;
  throw new Error(
    `${UNKNOWN_BENCHMARK} ${JSON.stringify(name)}: valid names are ${BENCHMARK_NAMES.join(', ')}; ` +
      'for another file write LABEL=PATH (e.g. mytest=data/mytest.jsonl) with --fields for its field names',
  );
}

/** The paths looked at under `dataDir` for a benchmark, in order. */
export function benchmarkCandidates(dataDir: string, name: string): string[] {
  return [
    join(dataDir, name, 'test.jsonl'),
    join(dataDir, `${name}.jsonl`),
    join(dataDir, name, 'test.parquet'),
    join(dataDir, `${name}.parquet`),
  ];
}

export function findBenchmarkFile(dataDir: string, name: string): string {
  const candidates = benchmarkCandidates(dataDir, name);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `${BENCHMARK_NOT_FOUND}: ${name}: looked for ${candidates.join(', ')}` +
        ' (put the public JSONL there, or pass --download to fetch it from the Hugging Face hub)',
    );
  }
  return found;
}

export interface BenchmarkProblem {
  id: string;
  problem: string;
  gold: string;
  level?: number | string;
  subject?: string;
}

export interface Benchmark {
  /** Built-in name or the LABEL of a custom file. */
  name: string;
  /** Column title for results.md. */
  title: string;
  /** Files the problems came from. */
  paths: string[];
  problems: BenchmarkProblem[];
  /** Set when a built-in benchmark's problem count differs from its public release. */
  warning?: string;
}

export interface BenchmarkRequest {
  /** A built-in name (or alias), or `LABEL=PATH` for any JSONL / JSON / Parquet file. */
  spec: string;
  /** Directory searched for built-in benchmarks. */
  dataDir?: string;
  /** Field mapping for LABEL=PATH files; built-in benchmarks always use their own layout. */
  fields?: FieldMapping;
  /** Fetch a built-in benchmark from the hub when it is not under dataDir. */
  download?: boolean;
  cacheDir?: string;
  hubEndpoint?: string;
  /** Keep the first N problems (smoke runs). */
  limit?: number;
}

async function loadFiles(paths: string[], fields: FieldMapping, limit?: number): Promise<BenchmarkProblem[]> {
  const problems: BenchmarkProblem[] = [];
  const firstSeen = new Map<string, string>();
  for (const path of paths) {
    for (const p of await loadProblems(path, { fields, dedup: false })) {
      if (limit !== undefined && problems.length >= limit) return problems;
      const where = `${path} problem ${problems.length + 1}`;
      const prior = firstSeen.get(p.id);
      if (prior !== undefined) {
        throw new Error(
          `${DUPLICATE_PROBLEM_ID} ${JSON.stringify(p.id)}: ${prior} and ${where} (map a unique id field with --fields id=NAME)`,
        );
      }
      firstSeen.set(p.id, where);
      const out: BenchmarkProblem = { id: p.id, problem: p.problem, gold: p.answer };
      if (p.level !== undefined) out.level = p.level;
      if (p.subject !== undefined) out.subject = p.subject;
      problems.push(out);
    }
  }
  return problems;
}

/** Loads one benchmark: a built-in by name (from dataDir, else the hub cache / a download) or `LABEL=PATH`. */
export async function loadBenchmark(req: BenchmarkRequest): Promise<Benchmark> {
  const eq = req.spec.indexOf('=');
  if (eq > 0) {
    const label = req.spec.slice(0, eq).trim();
    const path = req.spec.slice(eq + 1).trim();
    if (!existsSync(path)) throw new Error(`${BENCHMARK_NOT_FOUND}: ${label}: ${path} does not exist`);
    return {
      name: label,
      title: label,
      paths: [path],
      problems: await loadFiles([path], req.fields ?? {}, req.limit),
    };
  }
  const spec = BENCHMARKS[resolveBenchmarkName(req.spec)];
  let paths: string[];
  const local = req.dataDir
    ? benchmarkCandidates(req.dataDir, spec.name).find((p) => existsSync(p))
    : undefined;
  if (local) paths = [local];
  else if (req.download)
    paths = await downloadBenchmark(spec.name, { cacheDir: req.cacheDir, endpoint: req.hubEndpoint });
  else paths = [findBenchmarkFile(req.dataDir ?? SHIPPED_BENCHMARK_DIR, spec.name)];
  const problems = await loadFiles(paths, spec.fields, req.limit);
  const bench: Benchmark = { name: spec.name, title: spec.title, paths, problems };
  if (req.limit === undefined && problems.length !== spec.numProblems) {
    bench.warning = `${spec.name}: ${problems.length} problems in ${paths.join(', ')}; the public release has ${spec.numProblems}`;
  }
  return bench;
}

export function defaultCacheDir(): string {
  return (
    process.env.SIMPLERL_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'simplerl')
  );
}

export interface DownloadOptions {
  cacheDir?: string;
  /** Hub base URL; default $HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Use this source instead of the benchmark's default. */
  hub?: HubSource;
}

function hubHeaders(): Record<string, string> {
  const token = process.env.HF_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Downloads a built-in benchmark's Parquet files into the cache (once) and returns their paths.
 * A folder in the cache is complete: files land in a temporary folder renamed into place at the end.
 */
export async function downloadBenchmark(name: BenchmarkName, opts: DownloadOptions = {}): Promise<string[]> {
  const hub = opts.hub ?? BENCHMARKS[name].hub;
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const dir = join(
    opts.cacheDir ?? defaultCacheDir(),
    'hub',
    hub.repo.replace('/', '--'),
    hub.config,
    hub.split,
  );
  if (existsSync(dir)) {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort();
    if (files.length > 0) return files.map((f) => join(dir, f));
  }
  const listUrl = `${endpoint}/api/datasets/${hub.repo}/parquet/${encodeURIComponent(hub.config)}/${encodeURIComponent(hub.split)}`;
  const fail = (why: string) =>
    new Error(`${HUB_DOWNLOAD_FAILED}: ${name} (${hub.repo} ${hub.config}/${hub.split}): ${why}`);
  let urls: unknown;
  try {
    const res = await fetch(listUrl, { headers: hubHeaders() });
    if (!res.ok) throw fail(`${listUrl} answered ${res.status} ${res.statusText}`);
    urls = await res.json();
  } catch (err) {
    if ((err as Error).message.startsWith(HUB_DOWNLOAD_FAILED)) throw err;
    throw fail(`${listUrl}: ${(err as Error).message} (offline? put the file under --data DIR instead)`);
  }
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string')) {
    throw fail(`${listUrl} did not return a list of Parquet URLs: ${JSON.stringify(urls).slice(0, 200)}`);
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const paths: string[] = [];
  for (const [i, url] of (urls as string[]).entries()) {
    const res = await fetch(url, { headers: hubHeaders() });
    if (!res.ok || !res.body) throw fail(`${url} answered ${res.status} ${res.statusText}`);
    const file = `${String(i).padStart(4, '0')}.parquet`;
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      createWriteStream(join(tmp, file)),
    );
    paths.push(file);
  }
  await writeFile(join(tmp, 'source.json'), `${JSON.stringify({ ...hub, endpoint, urls }, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return paths.map((f) => join(dir, f));
}
