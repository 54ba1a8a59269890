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
 *   One decoder layer at a time (+1 prefetched) is gathered in the compute dtype, and the root group
 *   (embeddings, lm_head, final norm) for the whole forward and backward;
 * - the reference policy is sharded the same way, weights only, in the compute dtype;
 * - generation runs on every rank with a full copy of the policy in the compute dtype (refreshed from
 *   the shards after each update); with N = 1 and fp32 the training weights themselves are used;
 * - the KV cache holds every generated row at its full length (prompt + response) at once;
 * - the log-prob pass keeps fp32 logits of `LOGITS_CHUNK_ELEMS` elements alive at a time (forward.py),
 *   three such buffers in the backward pass (logits, softmax, gradient);
 * - attention is flash-style on CUDA (no T × T score matrix); on CPU the math path materialises it.
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
  /** Rows generated at once per rank (the engine generates a step's rows in chunks of this). null: all at once. */
  generationRows?: number | null;
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
  advice: string[];
}

/** fp32 logits alive at once in the engine's chunked log-prob pass (engine/simplerl_engine/forward.py). */
export const LOGITS_CHUNK_ELEMS = 1 << 24;
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

/** Bytes per token per layer that the backward pass keeps without checkpointing (compute dtype). */
function activationElemsPerTokenLayer(m: ModelShape): number {
  const qDim = m.numHeads * m.headDim;
  const kvDim = m.numKvHeads * m.headDim;
  // layer input + its norm, q/k/v (+ rotated q/k), attention output, o-proj output, residual + its norm,
  // gate, up, silu(gate), silu(gate)·up, down output.
  return (
    2 * m.hiddenSize +
    2 * qDim +
    3 * kvDim +
    qDim +
    m.hiddenSize +
    2 * m.hiddenSize +
    4 * m.intermediateSize +
    m.hiddenSize
  );
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
  const needsGenCopy = N > 1 || mixed;
  if (needsGenCopy) {
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

  const rowsPerRank = Math.min(
    Math.ceil((s.promptsPerStep * s.numSamples) / N),
    s.generationRows ?? Infinity,
  );
  const seqLen = s.maxPromptTokens + s.maxNewTokens;
  const kvPerToken = m.numLayers * 2 * m.numKvHeads * m.headDim * cb;
  const generation: MemoryLine[] = [
    {
      name: 'KV cache',
      bytes: rowsPerRank * seqLen * kvPerToken,
      arithmetic: `${rowsPerRank} rows × ${seqLen} tokens × ${m.numLayers} layers × 2 × ${m.numKvHeads} kv heads × ${m.headDim} × ${cb} B`,
    },
    {
      name: 'sampling logits',
      bytes: rowsPerRank * m.vocabSize * 4 * 2,
      arithmetic: `${rowsPerRank} rows × ${m.vocabSize} vocab × 4 B × 2 (logits + probabilities)`,
    },
  ];

  const T = s.microBatchTokens;
  const perLayer = activationElemsPerTokenLayer(m) * cb;
  const keptLayers = s.gradCheckpointing
    ? {
        bytes: T * m.numLayers * m.hiddenSize * cb + T * perLayer,
        how: `${T} tokens × (${m.numLayers} layer inputs × ${m.hiddenSize} + one layer's ${activationElemsPerTokenLayer(m)}) × ${cb} B (checkpointed)`,
      }
    : {
        bytes: T * m.numLayers * perLayer,
        how: `${T} tokens × ${m.numLayers} layers × ${activationElemsPerTokenLayer(m)} values × ${cb} B`,
      };
  const gradParams = Math.max(P, Pc);
  const training: MemoryLine[] = [
    {
      name: 'gradients (the role training now)',
      bytes: (4 * gradParams) / N,
      arithmetic: `${millions(gradParams)} params (${Pc > P ? 'critic' : 'policy'}, the larger role) × 4 B fp32 / ${N} ranks`,
    },
    { name: 'activations', bytes: keptLayers.bytes, arithmetic: keptLayers.how },
    {
      name: 'logits (chunked)',
      bytes: 3 * Math.min(LOGITS_CHUNK_ELEMS, T * m.vocabSize) * 4,
      arithmetic: `3 × min(${LOGITS_CHUNK_ELEMS}, ${T} × ${m.vocabSize}) × 4 B`,
    },
  ];
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
  const bytesPerRow = seqLen * kvPerToken + m.vocabSize * 4 * 2;
  const maxGenerationRows = Math.max(0, Math.floor((budget - sum(resident)) / bytesPerRow));
  const advice: string[] = [];
  if (!fits) {
    if (peakPhase === 'generation') {
      advice.push(
        `generation needs ${gib(genPeak)}: the KV cache of ${rowsPerRank} rows is ${gib(generation[0].bytes)}; at most ${maxGenerationRows} rows fit at once — generate in chunks of that many rows, lower rollout.max_new_tokens, or add ranks (engine.nproc)`,
      );
    } else {
      if (!s.gradCheckpointing)
        advice.push('set optim.grad_checkpointing: true (activations drop to one layer + layer inputs)');
      if (T > 2048)
        advice.push(
          `lower optim.micro_batch_tokens (now ${T}); the update stays the same, it only takes more micro-steps`,
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
    `peak ${gib(plan.peakBytes)} (${plan.peakPhase}) of ${gib(plan.deviceBytes)} per device (${Math.round(USABLE_FRACTION * 100)}% usable): ${plan.fits ? 'fits' : 'does NOT fit'}`,
    ...plan.advice.map((a) => `  → ${a}`),
  ].join('\n');
}
