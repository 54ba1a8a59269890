/**
 * The demo's tiny base model: a Qwen2-architecture decoder (RMSNorm, RoPE, SwiGLU, tied embeddings;
 * ≈0.8M parameters at the default size) with the demo tokenizer, "pre-trained" through the engine on
 * the imperfect corpus (corpus.ts), then saved as a Hugging Face folder that the RL run loads like
 * any real checkpoint.
 *
 * Cached under `<runs>/.demo-cache/base-<key>/` (see baseModelKey for what the key covers). A second
 * demo with the same settings starts from the cached folder.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { EngineClient, HelloResult } from '../engine/index.ts';
import { sha256File } from '../run/manifest.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { type CorpusDoc, type CorpusMix, DEFAULT_MIX, writeCorpus } from './corpus.ts';
import { makeRng } from './rng.ts';
import { countDemoTokens, DEMO_PROMPT_TEMPLATE, DEMO_TOKENS, demoTokenizerFiles } from './vocab.ts';

export interface BaseModelSpec {
  seed: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  numDocs: number;
  mix: CorpusMix;
  /** rambling documents box only after this many response tokens (keep it above the RL length limit) */
  rambleTokens: number;
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
}

/**
 * The first CPU prototype's model: 4 layers, width 128, 0.8M parameters. Pre-training is
 * 4000 × 44 documents (44 keeps the worked documents per step of the prototype's 32 at its 52% worked
 * share). Measured (bench/RESULTS.md ## Demo): after 2000 × 32 steps the loss was still falling
 * (0.146) and the base's own arithmetic so noisy when sampled (about half the steps of a sampled
 * solution wrong) that its rechecks were no more reliable than its first passes, so RL had nothing to
 * favour in checking and the self-check rate faded; at 4000 steps (loss ≈ 0.10) sampled checks are right
 * about twice as often as unchecked answers and RL raises the rate.
 */
export const DEFAULT_BASE_SPEC: BaseModelSpec = {
  seed: 0,
  hiddenSize: 128,
  numLayers: 4,
  numHeads: 4,
  intermediateSize: 352,
  maxPositions: 256,
  numDocs: 60000,
  mix: DEFAULT_MIX,
  rambleTokens: 190,
  steps: 4000,
  batchSize: 44,
  lr: 2e-3,
  warmupSteps: 100,
  minLrRatio: 0.05,
  weightDecay: 0.01,
};

/** Bump when the pre-training loop changes in a way that changes the weights (batching, loss). */
export const PRETRAIN_VERSION = 1;
export const PRETRAIN_FILE = 'pretrain.json';

/**
 * The cache key: a hash of everything the weights depend on — the spec, the loop's version, the
 * vocabulary and prompt template, the torch version, and the corpus text itself (so a change to the
 * task generator or corpus writer that changes any document makes a new base model, and one that
 * changes none keeps the cache).
 */
export function baseModelKey(spec: BaseModelSpec, torchVersion: string, docs: readonly CorpusDoc[]): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({ spec, version: PRETRAIN_VERSION, torchVersion, DEMO_TOKENS, DEMO_PROMPT_TEMPLATE }),
  );
  for (const d of docs) hash.update(`${d.problem}\u0000${d.response}\u0001`);
  return hash.digest('hex').slice(0, 16);
}

export function corpusOf(spec: BaseModelSpec): CorpusDoc[] {
  return writeCorpus({
    numDocs: spec.numDocs,
    seed: spec.seed,
    mix: spec.mix,
    rambleTokens: spec.rambleTokens,
    countTokens: countDemoTokens,
  });
}

export function qwen2Config(spec: BaseModelSpec, vocabSize: number, eosId: number): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    vocab_size: vocabSize,
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numHeads,
    head_dim: spec.hiddenSize / spec.numHeads,
    hidden_act: 'silu',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: spec.maxPositions,
    tie_word_embeddings: true,
    initializer_range: 0.02,
    bos_token_id: eosId,
    eos_token_id: eosId,
  };
}

/** Where a base model came from: shipped in the repository, the runs cache, or pre-trained now. */
export type BaseSource = 'shipped' | 'cache' | 'pretrained';

export interface PretrainReport {
  key: string;
  path: string;
  source: BaseSource;
  numParams: number;
  numTokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** mean loss over the first and the last 5% of steps */
  firstLoss: number;
  lastLoss: number;
  spec: BaseModelSpec;
  /** provenance: the same code gives byte-identical weights only with the same torch, threads and CPU kernels */
  torchVersion: string;
  threads: number;
  cpu: string;
  /** sha256 of model/model.safetensors */
  weightsSha256: string;
}

/**
 * Base models shipped in the repository, made by `simplerl demo-base` (assets/demo-bases/README.md):
 * pre-training is 80-90% of a fresh demo's time and 2-cores machines differ 2× in speed (489 s on one,
 * 1005 s on another), so the first command fits its time budget only when it need not pre-train.
 */
export const SHIPPED_BASES_DIR = join(import.meta.dirname, '..', '..', 'assets', 'demo-bases');
export const WEIGHTS_FILE = 'model.safetensors';

export interface PretrainOptions {
  spec: BaseModelSpec;
  runsDir: string;
  engine: EngineClient;
  /** the engine's hello: its torch version and thread count go into the key and the provenance */
  hello: Pick<HelloResult, 'torch' | 'threads'>;
  /** shipped bases to look in before the cache; default SHIPPED_BASES_DIR, null: none */
  shippedDir?: string | null;
  /** pre-train even when a shipped or cached base matches (a cached one is replaced) */
  isFresh?: boolean;
  /** called after each step */
  onStep?: (step: number, loss: number) => void;
}

interface EncodedDoc {
  ids: number[];
  promptLen: number;
}

function encodeCorpus(spec: BaseModelSpec, docs: readonly CorpusDoc[], tok: TextTokenizer): EncodedDoc[] {
  const eos = tok.eosTokenIds[0]!;
  const promptCache = new Map<string, number[]>();
  return docs.map((d) => {
    let prompt = promptCache.get(d.problem);
    if (!prompt) {
      prompt = tok.encode(DEMO_PROMPT_TEMPLATE.replace('{input}', d.problem));
      promptCache.set(d.problem, prompt);
    }
    const response = tok.encode(d.response);
    // a rambling document is cut a little past the position limit: it must never box in range
    const ids = [...prompt, ...response, eos].slice(0, spec.maxPositions);
    return { ids, promptLen: prompt.length };
  });
}

async function readReport(dir: string, source: BaseSource): Promise<PretrainReport | null> {
  const reportPath = join(dir, PRETRAIN_FILE);
  if (!existsSync(reportPath)) return null;
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as PretrainReport;
  return { ...report, path: dir, source };
}

/**
 * The shipped base made from exactly this spec and corpus, whatever torch made it: its key is
 * recomputed with the torch version it records, so a changed corpus writer or spec never matches.
 */
export async function findShippedBase(
  spec: BaseModelSpec,
  corpus: readonly CorpusDoc[],
  shippedDir: string = SHIPPED_BASES_DIR,
): Promise<PretrainReport | null> {
  if (!existsSync(shippedDir)) return null;
  for (const name of (await readdir(shippedDir)).filter((n) => n.startsWith('base-')).sort()) {
    const report = await readReport(join(shippedDir, name), 'shipped');
    if (report && baseModelKey(spec, report.torchVersion, corpus) === report.key) return report;
  }
  return null;
}

/** Returns a shipped or cached base model folder, or pre-trains one through `engine` and caches it. */
export async function ensureBaseModel(opts: PretrainOptions): Promise<PretrainReport> {
  const corpus = corpusOf(opts.spec);
  const key = baseModelKey(opts.spec, opts.hello.torch, corpus);
  const path = join(opts.runsDir, '.demo-cache', `base-${key}`);
  if (!opts.isFresh) {
    const shipped =
      opts.shippedDir === null ? null : await findShippedBase(opts.spec, corpus, opts.shippedDir);
    const found = shipped ?? (await readReport(path, 'cache'));
    if (found) return found;
  }
  return pretrainBaseModel(opts, corpus, path);
}

/** Pre-trains the base model of `opts.spec` on `corpus` through the engine into `path` (replaced atomically). */
export async function pretrainBaseModel(
  opts: Pick<PretrainOptions, 'spec' | 'engine' | 'hello' | 'onStep'>,
  corpus: readonly CorpusDoc[],
  path: string,
): Promise<PretrainReport> {
  const { spec, engine } = opts;
  const key = baseModelKey(spec, opts.hello.torch, corpus);
  const tmp = `${path}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const tokDir = join(tmp, 'tokenizer');
  await demoTokenizerFiles(tokDir);
  const tok = await TextTokenizer.fromDir(tokDir);
  const docs = encodeCorpus(spec, corpus, tok);
  const numResponseTokens = docs.reduce((s, d) => s + d.ids.length - d.promptLen, 0);
  // finding 5 of the prototype: divide by a constant (the expected masked tokens of a batch), not by
  // each batch's own count, or short terse documents weigh as much as long worked ones
  const lossNorm = (numResponseTokens / docs.length) * spec.batchSize;

  const loaded = await engine.load({
    role: 'policy',
    config: qwen2Config(spec, tok.vocabSize, tok.eosTokenIds[0]!),
    seed: spec.seed,
    optim: {
      lr: spec.lr,
      schedule: 'cosine',
      warmupSteps: Math.min(spec.warmupSteps, Math.floor(spec.steps / 10)),
      totalSteps: spec.steps,
      minLrRatio: spec.minLrRatio,
      gradClip: 1.0,
      weightDecay: spec.weightDecay,
    },
  });
  const rng = makeRng((spec.seed * 7919 + 17) >>> 0);
  const order = docs.map((_, i) => i);
  let cursor = order.length;
  const losses: number[] = [];
  let numTokens = 0;
  const t0 = performance.now();
  for (let step = 0; step < spec.steps; step++) {
    const batch: EncodedDoc[] = [];
    for (let b = 0; b < spec.batchSize; b++) {
      if (cursor >= order.length) {
        // a fresh shuffled pass over the corpus (Fisher-Yates)
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(rng.next() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        cursor = 0;
      }
      batch.push(docs[order[cursor++]!]!);
    }
    const offsets = new Int32Array(batch.length + 1);
    for (let i = 0; i < batch.length; i++) offsets[i + 1] = offsets[i]! + batch[i]!.ids.length;
    const ids = new Int32Array(offsets[batch.length]!);
    for (let i = 0; i < batch.length; i++) ids.set(batch[i]!.ids, offsets[i]!);
    const promptLens = Int32Array.from(batch, (d) => d.promptLen);
    const result = await engine.train(
      { ids, offsets, promptLens },
      { role: 'policy', loss: 'sft', lossNorm },
    );
    numTokens += ids.length;
    losses.push(result.loss);
    opts.onStep?.(step + 1, result.loss);
  }
  const seconds = (performance.now() - t0) / 1000;
  await engine.save({ role: 'policy', path: join(tmp, 'model') });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const tail = Math.max(1, Math.floor(losses.length * 0.05));
  const report: PretrainReport = {
    key,
    path,
    source: 'pretrained',
    numParams: loaded.numParams,
    numTokens,
    seconds,
    tokensPerSecond: numTokens / seconds,
    firstLoss: mean(losses.slice(0, tail)),
    lastLoss: mean(losses.slice(-tail)),
    spec,
    torchVersion: opts.hello.torch,
    threads: opts.hello.threads,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    weightsSha256: await sha256File(join(tmp, 'model', WEIGHTS_FILE)),
  };
  // the model folder carries its tokenizer, as a real Hugging Face checkpoint does
  await demoTokenizerFiles(join(tmp, 'model'));
  await writeFile(join(tmp, 'losses.json'), `${JSON.stringify(losses.map((l) => Number(l.toFixed(4))))}\n`);
  // where the folder lives and how it was found are the reader's to say (readReport), not the file's
  const stored = { ...report, path: undefined, source: undefined };
  await writeFile(join(tmp, PRETRAIN_FILE), `${JSON.stringify(stored, null, 2)}\n`);
  await rm(tokDir, { recursive: true, force: true });
  await rm(path, { recursive: true, force: true });
  await rename(tmp, path);
  return { ...report, path };
}

/** The Hugging Face folder (weights + tokenizer) of a base model report. */
export function baseModelDir(report: Pick<PretrainReport, 'path'>): string {
  return join(report.path, 'model');
}
