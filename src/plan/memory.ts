/**
 * Memory planner: per-device memory of a run, from the model's config.json and the run's settings.
 * Out-of-memory is the first complaint of users of every peer system, so the plan says where the
 * bytes go (weights, gradients, optimiser state, activations, logits, KV cache), whether it fits, and
 * which knob to turn when it does not.
 *
 * The model of the engine it assumes (engine/simplerl_engine):
 * - training state is sharded over N ranks (FSDP2 full shard): fp32 master weights, fp32 gradients
 *   and AdamW's two fp32 moments = 16 bytes per trained parameter / N (offload moves the moments and
 *   master weights to host memory). Gradients exist only while a role trains (the optimiser step
 *   frees them), and the roles train one after the other: the training phase holds the larger role's.
 *   At N > 1 one decoder layer at a time (+1 prefetched) is gathered in the compute dtype, and the root
 *   group (embeddings, lm_head, final norm) for the whole forward and backward;
 * - the reference policy is sharded the same way, weights only, in the compute dtype;
 * - generation: at N > 1 every rank holds a full copy of the policy in the compute dtype (dist_worker.py
 *   GenerationCopy, refreshed from the shards after each update). At N = 1 the Worker generates from
 *   the trained weights themselves; with bf16 (fp32 master weights under autocast) every matmul casts
 *   its weight on the fly — under inference_mode autocast caches no cast — so the largest one, the
 *   output embedding [V, H], is the only cast that counts;
 * - generation runs in waves (generate.py prompts_per_wave): the KV cache of one wave holds its rows at
 *   full length (prompt + response), as many prompts' rows as the KV budget takes (half the memory left
 *   free by the resident state on CUDA, 4 GiB on CPU), capped by rollout.max_rows_per_wave, at least
 *   one prompt; sampling keeps four fp32 [rows, V] buffers per wave (logits, tempered logits,
 *   probabilities, their cumulative sum). The engine reads the free memory when it generates (CUDA
 *   context and allocator cache included), the plan takes device memory − resident state;
 * - a micro-batch is at most `micro_batch_tokens` padded tokens (a longer sequence goes alone). With
 *   bf16 at N = 1 the residual stream stays fp32 (fp32 parameters, autocast casts only matmul inputs)
 *   and each projection saves its own bf16 cast of its input; at N > 1 FSDP gathers the parameters
 *   in bf16 and the residual stream is bf16 too. Autocast's bf16 casts of the layers' weights are saved
 *   for backward (N = 1, bf16, without activation checkpointing);
 * - the log-prob pass (model/chunked_logprobs.py) computes fp32 logits over row chunks of
 *   `logitsChunkElems` elements (forward.py logits_chunk_elems_for); its backward keeps ~6 chunk-sized
 *   fp32 buffers alive (logits, log-probs, probabilities, their gradient, the previous chunk's bf16
 *   gradient and the next chunk's logits), an fp32 gradient of the output embedding [V, H] and, with
 *   bf16, a bf16 [V, H] copy (N = 1: the weight cast for the matmuls; N > 1: the gradient cast back to
 *   the gathered parameter's dtype);
 * - attention is flash-style on CUDA (no T × T score matrix); on CPU the math path materialises it.
 * Not modelled: the optimiser step (fused AdamW on one GPU adds nothing to gradients + state; foreach
 * adds one fp32 temporary per parameter / N, below the backward pass's peak unless activations and
 * logits are smaller than 4 B/param / N) and the prefill's transient activations (one decoder layer
 * of ≤ 16384 prompt tokens at a time).
 */

export interface ModelShape {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  tieWordEmbeddings: boolean;
  qkvBias: boolean;
}

export interface PlanSettings {
  numRanks: number;
  device: 'cuda' | 'cpu';
  /** Bytes per element of the compute dtype: 2 for bf16 (GPU default), 4 for fp32 (CPU). */
  computeBytes: 2 | 4;
  algo: 'ppo' | 'grpo';
  /** A reference policy is loaded (KL coefficient > 0). */
  withRef: boolean;
  promptsPerStep: number;
  numSamples: number;
  maxPromptTokens: number;
  maxNewTokens: number;
  microBatchTokens: number;
  gradCheckpointing: boolean;
  /** Optimiser moments and fp32 master weights live in host memory. */
  offloadOptimizer: boolean;
  /** Memory of one device in bytes. */
  deviceBytes: number;
  /** Cap on the rows (prompts × n) of one generation wave per rank (rollout.max_rows_per_wave). null: the KV budget alone sizes waves. */
  maxRowsPerWave?: number | null;
  /** fp32 logits per chunk of the log-prob pass; default: the engine's rule (`logitsChunkElemsFor`). */
  logitsChunkElems?: number;
}

export interface MemoryLine {
  name: string;
  bytes: number;
  /** How the figure was computed, in words and numbers. */
  arithmetic: string;
}

export interface MemoryPlan {
  numParams: number;
  numCriticParams: number;
  resident: MemoryLine[];
  generation: MemoryLine[];
  training: MemoryLine[];
  peakBytes: number;
  peakPhase: 'generation' | 'training';
  deviceBytes: number;
  fits: boolean;
  /** The most rows one rank can generate at once with the rest of the plan resident. */
  maxGenerationRows: number;
  /** The waves the engine generates a step's rows in, per rank. */
  waves: GenerationWaves;
  advice: string[];
}

export interface GenerationWaves {
  /** KV-cache budget of one generate call: CUDA_CACHE_SHARE_OF_FREE × free memory, or CPU_CACHE_BYTES. */
  kvBudgetBytes: number;
  promptsPerRank: number;
  promptsPerWave: number;
  rowsPerWave: number;
  numWaves: number;
}

/** The engine's KV budget for generation (generate.py): this share of the free memory on CUDA... */
export const CUDA_CACHE_SHARE_OF_FREE = 0.5;
/** ...and this many bytes on CPU. */
export const CPU_CACHE_BYTES = 4 * 1024 ** 3;

export interface WaveInputs {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  /** Longest prompt + max_new_tokens (the engine's) or max_prompt_tokens + max_new_tokens (the plan's bound). */
  seqLen: number;
  itemBytes: number;
  numSamples: number;
  budgetBytes: number;
  maxRowsPerWave: number | null;
}

/**
 * Prompts per generation wave, the rule of generate.py `prompts_per_wave`: as many as the KV budget
 * holds at full length, at most maxRowsPerWave / n, at least one (tests/fixtures/generation-waves.json
 * pins both sides).
 */
export function enginePromptsPerWave(w: WaveInputs): number {
  const rowBytes = 2 * w.numLayers * w.numKvHeads * w.headDim * w.seqLen * w.itemBytes;
  let fit = Math.floor(w.budgetBytes / (rowBytes * w.numSamples));
  if (w.maxRowsPerWave !== null) fit = Math.min(fit, Math.floor(w.maxRowsPerWave / w.numSamples));
  return Math.max(1, fit);
}

/** The waves of one rank: its share of the step's prompts (dist_worker.py splits prompts) in budget-sized groups. */
function generationWaves(m: ModelShape, s: PlanSettings, residentBytes: number): GenerationWaves {
  const kvBudgetBytes =
    s.device === 'cuda'
      ? Math.max(0, Math.floor(CUDA_CACHE_SHARE_OF_FREE * (s.deviceBytes - residentBytes)))
      : CPU_CACHE_BYTES;
  const promptsPerRank = Math.ceil(s.promptsPerStep / s.numRanks);
  const fit = enginePromptsPerWave({
    numLayers: m.numLayers,
    numKvHeads: m.numKvHeads,
    headDim: m.headDim,
    seqLen: s.maxPromptTokens + s.maxNewTokens,
    itemBytes: s.computeBytes,
    numSamples: s.numSamples,
    budgetBytes: kvBudgetBytes,
    maxRowsPerWave: s.maxRowsPerWave ?? null,
  });
  const promptsPerWave = Math.min(fit, promptsPerRank);
  const numWaves = Math.ceil(promptsPerRank / promptsPerWave);
  return {
    kvBudgetBytes,
    promptsPerRank,
    promptsPerWave,
    rowsPerWave: promptsPerWave * s.numSamples,
    numWaves,
  };
}

/** fp32 logits of one chunk of the engine's log-prob pass (engine/simplerl_engine/model/chunked_logprobs.py). */
export const LOGITS_CHUNK_ELEMS = 1 << 26;
/** On a GPU the chunk grows to 1/128 of the device's memory in fp32 elements when that is more (forward.py). */
export const GPU_LOGITS_CHUNK_SHARE = 128;

/** The chunk size the engine picks (forward.py logits_chunk_elems_for). */
export function logitsChunkElemsFor(device: 'cuda' | 'cpu', deviceBytes: number): number {
  if (device !== 'cuda') return LOGITS_CHUNK_ELEMS;
  return Math.max(LOGITS_CHUNK_ELEMS, Math.floor(deviceBytes / GPU_LOGITS_CHUNK_SHARE / 4));
}
/**
 * Chunk-sized fp32 buffers alive at once in the log-prob backward (chunked_logprobs.py): a chunk's
 * logits, log-probs, probabilities, their gradient and one temporary (5; with bf16 the gradient's bf16
 * copy adds half a buffer), and with more than one chunk the next chunk's logits come while the last
 * chunk's are alive (6).
 */
export function logitsBackwardBuffers(numChunks: number, mixed: boolean): number {
  return numChunks > 1 ? 6 : 5 + (mixed ? 0.5 : 0);
}
/** fp32 [rows, V] buffers alive at once while sampling a decode step (sampling.py). */
export const SAMPLING_BUFFERS = 4;
/** Share of device memory the plan lets itself use (allocator fragmentation, CUDA context, NCCL buffers). */
export const USABLE_FRACTION = 0.9;

export const PLAN_ERROR = 'config.json';

/** Reads the fields the planner needs from a Hugging Face config.json (Qwen2 / Llama family). */
export function modelShapeFromHf(cfg: Record<string, unknown>, file = 'config.json'): ModelShape {
  const int = (name: string, fallback?: number): number => {
    const v = cfg[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new Error(`${file}: ${name} must be a positive integer, got ${JSON.stringify(cfg[name])}`);
    }
    return v;
  };
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  return {
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads: int('num_key_value_heads', numHeads),
    headDim: int('head_dim', hiddenSize / numHeads),
    tieWordEmbeddings: cfg.tie_word_embeddings === true,
    qkvBias: cfg.model_type === 'qwen2' || cfg.attention_bias === true,
  };
}

/** Parameters of one decoder layer: attention (q, k, v, o), SwiGLU MLP (gate, up, down), two RMSNorms. */
export function layerParams(m: ModelShape): number {
  const q = m.hiddenSize * m.numHeads * m.headDim + (m.qkvBias ? m.numHeads * m.headDim : 0);
  const kv = 2 * (m.hiddenSize * m.numKvHeads * m.headDim + (m.qkvBias ? m.numKvHeads * m.headDim : 0));
  const o = m.numHeads * m.headDim * m.hiddenSize;
  const mlp = 3 * m.hiddenSize * m.intermediateSize;
  return q + kv + o + mlp + 2 * m.hiddenSize;
}

/** Parameters of the causal LM: embeddings, layers, final norm, and lm_head unless tied. */
export function countParams(m: ModelShape): number {
  const embed = m.vocabSize * m.hiddenSize;
  return embed + m.numLayers * layerParams(m) + m.hiddenSize + (m.tieWordEmbeddings ? 0 : embed);
}

/** Parameters of the critic: the backbone without lm_head, plus a hidden → 1 value head. */
export function countCriticParams(m: ModelShape): number {
  return m.vocabSize * m.hiddenSize + m.numLayers * layerParams(m) + m.hiddenSize + m.hiddenSize;
}

/**
 * Bytes per token per decoder layer that the backward pass keeps (no checkpointing). `residualBytes`:
 * dtype of the residual stream (4 at N = 1, whose parameters are fp32; the compute dtype under FSDP);
 * `cb`: compute dtype of the matmuls. Per block: the norm's fp32 input (rms_norm runs on x.float()),
 * its normalised output in the residual dtype (the weight multiply saves it), the projections' inputs
 * (one shared tensor, or one cast per projection when autocast casts them: q/k/v, gate/up); attention
 * keeps q, k, v, its output and the o-proj input (a reshaped copy), plus a log-sum-exp per head; the
 * MLP keeps gate, silu(gate), up and their product.
 */
export function activationBytesPerTokenLayer(m: ModelShape, residualBytes: number, cb: number): number {
  const qDim = m.numHeads * m.headDim;
  const kvDim = m.numKvHeads * m.headDim;
  const isCast = residualBytes !== cb;
  const block = (numProjections: number) =>
    (4 + residualBytes + (isCast ? numProjections : 1) * cb) * m.hiddenSize;
  return block(3) + block(2) + cb * (3 * qDim + 2 * kvDim) + 4 * m.numHeads + 4 * cb * m.intermediateSize;
}

/** Weights of one decoder layer that go through matmuls (projections and their biases, not the norms). */
function layerMatmulParams(m: ModelShape): number {
  return layerParams(m) - 2 * m.hiddenSize;
}

const GIB = 1024 ** 3;
export const gib = (bytes: number): string => `${(bytes / GIB).toFixed(2)} GiB`;
const millions = (n: number): string => `${(n / 1e6).toFixed(1)}M`;

export function planMemory(m: ModelShape, s: PlanSettings): MemoryPlan {
  const N = s.numRanks;
  const cb = s.computeBytes;
  const P = countParams(m);
  const Pc = s.algo === 'ppo' ? countCriticParams(m) : 0;
  const mixed = cb === 2;
  const resident: MemoryLine[] = [];

  const trainState = (name: string, params: number) => {
    resident.push({
      name: `${name} weights`,
      bytes: (4 * params) / N,
      arithmetic: `${millions(params)} params × 4 B fp32 / ${N} ranks`,
    });
    if (!s.offloadOptimizer) {
      resident.push({
        name: `${name} AdamW moments`,
        bytes: (8 * params) / N,
        arithmetic: `${millions(params)} params × 2 × 4 B / ${N} ranks`,
      });
    }
  };
  trainState('policy', P);
  if (Pc) trainState('critic', Pc);
  if (s.withRef) {
    resident.push({
      name: 'reference weights',
      bytes: (cb * P) / N,
      arithmetic: `${millions(P)} × ${cb} B / ${N} ranks`,
    });
  }
  // dist_worker.py makes a generation copy only when the role is sharded (N > 1); at N = 1 the Worker
  // generates from the trained weights.
  if (N > 1) {
    resident.push({
      name: 'generation copy of the policy',
      bytes: cb * P,
      arithmetic: `${millions(P)} × ${cb} B, full weights on every rank`,
    });
  }
  const gatheredLayers = N > 1 ? 2 : 0;
  if (gatheredLayers) {
    const rootParams = countParams(m) - m.numLayers * layerParams(m);
    resident.push({
      name: 'gathered layers (FSDP)',
      bytes: (gatheredLayers * layerParams(m) + rootParams) * cb,
      arithmetic: `(${gatheredLayers} layers × ${millions(layerParams(m))} (current + prefetch) + root ${millions(rootParams)} (embeddings, lm_head, norm)) × ${cb} B`,
    });
  }

  const VH = m.vocabSize * m.hiddenSize;
  // N = 1 with bf16: fp32 weights under autocast, cast per matmul (nothing cached under inference_mode)
  const castsOnTheFly = N === 1 && mixed;
  const waves = generationWaves(
    m,
    s,
    resident.reduce((a, l) => a + l.bytes, 0),
  );
  const rowsPerRank = waves.rowsPerWave;
  const waveWords = `${rowsPerRank} rows (one wave of ${waves.promptsPerWave} prompts × ${s.numSamples}; ${waves.numWaves} wave${waves.numWaves > 1 ? 's' : ''} per step)`;
  const seqLen = s.maxPromptTokens + s.maxNewTokens;
  const kvPerToken = m.numLayers * 2 * m.numKvHeads * m.headDim * cb;
  const samplingBytesPerRow = m.vocabSize * 4 * SAMPLING_BUFFERS;
  const generation: MemoryLine[] = [
    {
      name: 'KV cache',
      bytes: rowsPerRank * seqLen * kvPerToken,
      arithmetic: `${waveWords} × ${seqLen} tokens × ${m.numLayers} layers × 2 × ${m.numKvHeads} kv heads × ${m.headDim} × ${cb} B`,
    },
    {
      name: 'sampling logits',
      bytes: rowsPerRank * samplingBytesPerRow,
      arithmetic: `${rowsPerRank} rows × ${m.vocabSize} vocab × 4 B × ${SAMPLING_BUFFERS} (logits, tempered, probabilities, cumulative)`,
    },
  ];
  if (castsOnTheFly) {
    generation.push({
      name: 'output embedding cast per step',
      bytes: VH * cb,
      arithmetic: `${m.vocabSize} × ${m.hiddenSize} × ${cb} B (autocast, each decode step)`,
    });
  }

  // padded tokens of one micro-batch: count × longest ≤ micro_batch_tokens, a longer sequence alone
  const T = Math.max(s.microBatchTokens, seqLen);
  const residualBytes = N > 1 ? cb : 4;
  const perTokenLayer = activationBytesPerTokenLayer(m, residualBytes, cb);
  // the final norm's fp32 input and its output, and the rows gathered for the log-prob pass
  const perTokenOutside = (4 + 2 * residualBytes) * m.hiddenSize;
  const keptLayers = s.gradCheckpointing
    ? {
        bytes: T * (m.numLayers * m.hiddenSize * residualBytes + perTokenLayer + perTokenOutside),
        how: `${T} tokens × (${m.numLayers} layer inputs × ${m.hiddenSize} × ${residualBytes} B + one layer's ${perTokenLayer} B + ${perTokenOutside} B final norm) (checkpointed)`,
      }
    : {
        bytes: T * (m.numLayers * perTokenLayer + perTokenOutside),
        how: `${T} tokens × (${m.numLayers} layers × ${perTokenLayer} B + ${perTokenOutside} B final norm)`,
      };
  const gradParams = Math.max(P, Pc);
  const training: MemoryLine[] = [
    {
      name: 'gradients (the role training now)',
      bytes: (4 * gradParams) / N,
      arithmetic: `${millions(gradParams)} params (${Pc > P ? 'critic' : 'policy'}, the larger role) × 4 B fp32 / ${N} ranks`,
    },
    { name: 'activations', bytes: keptLayers.bytes, arithmetic: keptLayers.how },
  ];
  if (castsOnTheFly) {
    const castLayers = s.gradCheckpointing ? 1 : m.numLayers;
    training.push({
      name: 'weight casts saved for backward',
      bytes: castLayers * layerMatmulParams(m) * cb,
      arithmetic: `${castLayers} layer${castLayers > 1 ? 's' : ''} × ${millions(layerMatmulParams(m))} matmul weights × ${cb} B (autocast${s.gradCheckpointing ? ', the layer being recomputed' : ''})`,
    });
  }
  const chunkElems = s.logitsChunkElems ?? logitsChunkElemsFor(s.device, s.deviceBytes);
  // rows of a chunk: the engine's chunk, or every row of the micro-batch (at most its T tokens)
  const engineChunkRows = Math.max(1, Math.floor(chunkElems / m.vocabSize));
  const chunkRows = Math.min(engineChunkRows, T);
  const buffers = logitsBackwardBuffers(Math.ceil(T / engineChunkRows), mixed);
  training.push(
    {
      name: 'logits (chunked)',
      bytes: buffers * chunkRows * m.vocabSize * 4,
      arithmetic: `${buffers} × ${chunkRows} rows (${chunkElems} elements / ${m.vocabSize} vocab, at most ${T}) × ${m.vocabSize} × 4 B`,
    },
    {
      name: 'output embedding gradient',
      bytes: VH * (4 + (mixed ? cb : 0)),
      arithmetic: `${m.vocabSize} × ${m.hiddenSize} × (4 B fp32 gradient${mixed ? ` + ${cb} B copy` : ''})`,
    },
  );
  if (s.device === 'cpu') {
    // The math attention path keeps B × heads × T × T scores; a micro-batch's tokens at most form one sequence of seqLen.
    const scoreTokens = Math.min(T, seqLen);
    training.push({
      name: 'attention scores (CPU math path)',
      bytes: m.numLayers * m.numHeads * scoreTokens * T * 4,
      arithmetic: `${m.numLayers} layers × ${m.numHeads} heads × ${scoreTokens} × ${T} × 4 B`,
    });
  }

  const sum = (lines: MemoryLine[]) => lines.reduce((a, l) => a + l.bytes, 0);
  const genPeak = sum(resident) + sum(generation);
  const trainPeak = sum(resident) + sum(training);
  const peakBytes = Math.max(genPeak, trainPeak);
  const peakPhase = genPeak >= trainPeak ? 'generation' : 'training';
  const budget = s.deviceBytes * USABLE_FRACTION;
  const fits = peakBytes <= budget;
  const bytesPerRow = seqLen * kvPerToken + samplingBytesPerRow;
  const fixedGeneration = castsOnTheFly ? VH * cb : 0;
  const maxGenerationRows = Math.max(0, Math.floor((budget - sum(resident) - fixedGeneration) / bytesPerRow));
  const advice: string[] = [];
  if (!fits) {
    if (peakPhase === 'generation') {
      advice.push(
        `generation needs ${gib(genPeak)}: the KV cache of a wave of ${rowsPerRank} rows is ${gib(generation[0].bytes)}; at most ${maxGenerationRows} rows fit at once — set rollout.max_rows_per_wave to at most that (whole prompts of ${s.numSamples} rows), lower rollout.max_new_tokens, or add ranks (engine.nproc)`,
      );
    } else {
      if (!s.gradCheckpointing)
        advice.push('set optim.grad_checkpointing: true (activations drop to one layer + layer inputs)');
      if (s.microBatchTokens > 2048)
        advice.push(
          `lower optim.micro_batch_tokens (now ${s.microBatchTokens}); the update stays the same, it only takes more micro-steps`,
        );
    }
    if (!s.offloadOptimizer)
      advice.push('offload the optimiser state to host memory (saves 8 B per trained parameter / N)');
    advice.push(`add ranks (engine.nproc): the training state (16 B/param) is divided by N, now ${N}`);
  }
  return {
    numParams: P,
    numCriticParams: Pc,
    resident,
    generation,
    training,
    peakBytes,
    peakPhase,
    deviceBytes: s.deviceBytes,
    fits,
    maxGenerationRows,
    waves,
    advice,
  };
}

export function formatPlan(plan: MemoryPlan): string {
  const rows = (title: string, lines: MemoryLine[]) =>
    [
      `${title}:`,
      ...lines.map((l) => `  ${l.name.padEnd(34)} ${gib(l.bytes).padStart(11)}   ${l.arithmetic}`),
    ].join('\n');
  return [
    `policy ${millions(plan.numParams)} params${plan.numCriticParams ? `, critic ${millions(plan.numCriticParams)}` : ''}`,
    rows('resident (every phase)', plan.resident),
    rows('generation phase', plan.generation),
    rows('training phase', plan.training),
    `at most ${plan.maxGenerationRows} rows can be generated at once per device`,
    `generation in ${plan.waves.numWaves} wave${plan.waves.numWaves > 1 ? 's' : ''} of at most ${plan.waves.rowsPerWave} rows per device (engine KV budget ${gib(plan.waves.kvBudgetBytes)}; cap: rollout.max_rows_per_wave)`,
    `peak ${gib(plan.peakBytes)} (${plan.peakPhase}) of ${gib(plan.deviceBytes)} per device (${Math.round(USABLE_FRACTION * 100)}% usable): ${plan.fits ? 'fits' : 'does NOT fit'}`,
    ...plan.advice.map((a) => `  → ${a}`),
  ].join('\n');
}
