// LoRA in the engine's `load` requests (issue 20): the policy and the critic load the base weights with
// adapters on top (from the checkpoint's PEFT adapter on resume), and the reference is the policy's
// own module with the adapters off when it is the same base (no second copy of the weights).
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config/resolve.ts';
import type { LoadArgs, LoraArgs } from '../engine/index.ts';

/** Extra `load` fields per role; empty when model.lora is off (rank 0). */
export interface LoraLoads {
  policy: Partial<LoadArgs>;
  critic: Partial<LoadArgs>;
  /** The whole `load` of the reference, or null to load it from model.ref_path as without LoRA. */
  ref: LoadArgs | null;
}

/** model.lora as the engine's `lora` argument (alpha null = 2 × rank), or null when off. */
export function loraArgs(cfg: ResolvedConfig, adapterPath?: string): LoraArgs | null {
  const l = cfg.model.lora;
  if (l.rank === 0) return null;
  return {
    rank: l.rank,
    alpha: l.alpha ?? 2 * l.rank,
    dropout: l.dropout,
    targetModules: [...l.target_modules],
    ...(adapterPath !== undefined ? { adapterPath } : {}),
  };
}

/** resumeDir: the checkpoint a run resumes from (its policy/ and critic/ hold PEFT adapters), or null. */
export function loraLoads(cfg: ResolvedConfig, resumeDir: string | null): LoraLoads {
  const args = (role: string) => loraArgs(cfg, resumeDir === null ? undefined : `${resumeDir}/${role}`);
  const policy = args('policy');
  if (policy === null) return { policy: {}, critic: {}, ref: null };
  const isSameBase = resolve(cfg.model.ref_path) === resolve(cfg.model.path);
  return {
    policy: { path: cfg.model.path, seed: cfg.run.seed, lora: policy },
    critic: { path: cfg.model.critic_path ?? cfg.model.path, lora: args('critic') ?? undefined },
    ref: isSameBase ? { role: 'ref', baseOf: 'policy' } : null,
  };
}
