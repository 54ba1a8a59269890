/**
 * LoRA in the memory plan (issue 20): the engine (engine/simplerl_engine/model/lora.py, worker.py) keeps
 * the base frozen in the compute dtype (bf16 on CUDA, fp32 on CPU) and trains only the adapters A [r, in]
 * and B [out, r] of each target projection, in fp32 with AdamW; so there are no gradients and no optimiser
 * state for the base, and no reference copy (the reference is the policy's own module with the adapters
 * off). The PPO critic has its own frozen base, its own adapters and a trained value head. Generation
 * at N = 1 merges each target weight into a copy (W + alpha/r · B·A, in the base dtype), freed after;
 * at N > 1 the adapters are merged into the generation copy that exists anyway.
 * Activations gain, per target projection, the r-dim output of A (saved for B's backward) and, with
 * dropout, the dropped copy of the input.
 */
import {
  countCriticParams,
  countParams,
  type MemoryLine,
  type ModelShape,
  type PlanSettings,
} from './memory.ts';

export interface LoraShape {
  rank: number;
  targetModules: readonly string[];
  dropout: number;
}

/** Lines of the full fine-tuning plan that LoRA replaces. */
const REPLACED = new Set([
  'policy weights',
  'policy AdamW moments',
  'critic weights',
  'critic AdamW moments',
  'reference weights',
  'gradients (the role training now)',
  'output embedding gradient',
  'weight casts saved for backward',
  'output embedding cast per step',
]);

/** [in, out] features of each projection LoRA can target. */
export function projectionShapes(m: ModelShape): Record<string, [number, number]> {
  const q = m.numHeads * m.headDim;
  const kv = m.numKvHeads * m.headDim;
  const [h, i] = [m.hiddenSize, m.intermediateSize];
  return {
    q_proj: [h, q],
    k_proj: [h, kv],
    v_proj: [h, kv],
    o_proj: [q, h],
    gate_proj: [h, i],
    up_proj: [h, i],
    down_proj: [i, h],
  };
}

function shapesOf(m: ModelShape, l: LoraShape): [number, number][] {
  const all = projectionShapes(m);
  return l.targetModules.map((t) => {
    const s = all[t];
    if (s === undefined)
      throw new Error(`model.lora.target_modules: ${t} is not one of ${Object.keys(all).join(', ')}`);
    return s;
  });
}

/** Trainable adapter parameters: layers × Σ over targets of r·(in + out) (PEFT's count). */
export function loraParams(m: ModelShape, l: LoraShape): number {
  return m.numLayers * shapesOf(m, l).reduce((a, [i, o]) => a + l.rank * (i + o), 0);
}

/** Base weights of the target projections (what the generation-time merged copies hold). */
export function targetParams(m: ModelShape, l: LoraShape): number {
  return m.numLayers * shapesOf(m, l).reduce((a, [i, o]) => a + i * o, 0);
}

const millions = (n: number): string => `${(n / 1e6).toFixed(2)}M`;

export interface PlanLines {
  resident: MemoryLine[];
  generation: MemoryLine[];
  training: MemoryLine[];
}

function dropReplaced(lines: MemoryLine[]): void {
  for (let i = lines.length - 1; i >= 0; i--) if (REPLACED.has(lines[i]!.name)) lines.splice(i, 1);
}

/** The hook of planMemory: replaces the full fine-tuning lines with LoRA's (the arrays in place). */
export function applyLora(m: ModelShape, s: PlanSettings, l: LoraShape, lines: PlanLines): void {
  for (const k of ['resident', 'generation', 'training'] as const) dropReplaced(lines[k]);
  const N = s.numRanks;
  const cb = s.computeBytes;
  const Pa = loraParams(m, l);
  const P = countParams(m);
  const roles: [string, number, number][] = [['policy', P, Pa]];
  if (s.algo === 'ppo') roles.push(['critic', countCriticParams(m), Pa + m.hiddenSize]);
  for (const [role, base, trained] of roles) {
    lines.resident.push(
      {
        name: `${role} base weights (frozen)`,
        bytes: (cb * base) / N,
        arithmetic: `${millions(base)} × ${cb} B / ${N} ranks`,
      },
      {
        name: `${role} ${role === 'critic' ? 'adapters + value head' : 'adapters'} + AdamW`,
        bytes: (12 * trained) / N,
        arithmetic: `${millions(trained)} trained params × (4 B fp32 + 2 × 4 B moments) / ${N} ranks`,
      },
    );
  }
  if (s.withRef)
    lines.resident.push({
      name: 'reference weights',
      bytes: 0,
      arithmetic: "none: the policy's base with the adapters off",
    });
  if (N === 1) {
    const T = targetParams(m, l);
    lines.generation.push({
      name: 'merged target weights',
      bytes: T * cb,
      arithmetic: `${millions(T)} target weights × ${cb} B (W + alpha/r·BA copies)`,
    });
  }
  const trained = Math.max(...roles.map((r) => r[2]));
  const perToken =
    l.targetModules.length * l.rank * cb +
    (l.dropout > 0 ? shapesOf(m, l).reduce((a, [i]) => a + i * cb, 0) : 0);
  const tokens = Math.max(s.microBatchTokens, s.maxPromptTokens + s.maxNewTokens);
  const layersKept = s.gradCheckpointing ? 1 : m.numLayers;
  lines.training.push(
    {
      name: 'gradients (adapters)',
      bytes: (4 * trained) / N,
      arithmetic: `${millions(trained)} params × 4 B fp32 / ${N} ranks`,
    },
    {
      name: 'adapter activations',
      bytes: tokens * layersKept * perToken,
      arithmetic: `${tokens} tokens × ${layersKept} layers × ${perToken} B (A's r-dim outputs${l.dropout > 0 ? ', dropped inputs' : ''})`,
    },
  );
}
