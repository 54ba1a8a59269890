/**
 * Writes the demo's data files: train / test / hard problems as JSONL (`problem`, `answer`, `level`,
 * `skill`, `id`) and, optionally, the pre-training corpus (`problem`, `response`, `style`, ...).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CorpusMix, DEFAULT_MIX, writeCorpus } from './corpus.ts';
import { type Split, synthTasks, toRecord } from './tasks.ts';
import { countDemoTokens } from './vocab.ts';

export interface SynthFilesOptions {
  out: string;
  seed: number;
  counts: Record<Split, number>;
  /** documents of corpus.jsonl; 0: no corpus file */
  numCorpusDocs?: number;
  rambleTokens?: number;
  mix?: CorpusMix;
}

export interface SynthFilesResult {
  files: Record<string, string>;
  counts: Record<string, number>;
}

function jsonl(rows: object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export async function writeSynthFiles(opts: SynthFilesOptions): Promise<SynthFilesResult> {
  await mkdir(opts.out, { recursive: true });
  const files: Record<string, string> = {};
  const counts: Record<string, number> = {};
  for (const split of ['train', 'test', 'hard'] as const) {
    if (opts.counts[split] <= 0) continue;
    const tasks = synthTasks({ split, count: opts.counts[split], seed: opts.seed });
    files[split] = join(opts.out, `${split}.jsonl`);
    counts[split] = tasks.length;
    await writeFile(files[split], jsonl(tasks.map(toRecord)));
  }
  if (opts.numCorpusDocs) {
    const docs = writeCorpus({
      numDocs: opts.numCorpusDocs,
      seed: opts.seed,
      mix: opts.mix ?? DEFAULT_MIX,
      rambleTokens: opts.rambleTokens ?? 190,
      countTokens: countDemoTokens,
    });
    files.corpus = join(opts.out, 'corpus.jsonl');
    counts.corpus = docs.length;
    await writeFile(files.corpus, jsonl(docs));
  }
  return { files, counts };
}
