// A new run's config.yaml stores its input paths absolute, so that `train --resume RUN_DIR` works from any
// working directory (relative paths in the YAML would be read against the resuming shell's cwd).
// Paths that do not exist from the cwd (e.g. a name the user meant otherwise) are kept as written, and
// checkRunInputs names them. Runs written before this keep relative paths: resume them from their
// original directory.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ResolvedConfig } from './resolve.ts';

function absolute<T extends string | null>(path: T, cwd: string): T {
  if (path === null || isAbsolute(path)) return path;
  const abs = resolve(cwd, path);
  return (existsSync(abs) ? abs : path) as T;
}

/** The config with its file and folder inputs (model, data, reward module, sft data) made absolute. */
export function withAbsolutePaths(cfg: ResolvedConfig, cwd = process.cwd()): ResolvedConfig {
  const a = <T extends string | null>(p: T) => absolute(p, cwd);
  const python = cfg.engine.python;
  return {
    ...cfg,
    model: {
      ...cfg.model,
      path: a(cfg.model.path),
      ref_path: a(cfg.model.ref_path),
      critic_path: a(cfg.model.critic_path),
      tokenizer: a(cfg.model.tokenizer),
    },
    data: { ...cfg.data, train: a(cfg.data.train), val: a(cfg.data.val) },
    reward: { ...cfg.reward, custom: a(cfg.reward.custom) },
    sft: { ...cfg.sft, data: a(cfg.sft.data) },
    // a bare command name (python3) is looked up on PATH, not in the cwd
    engine: { ...cfg.engine, python: python?.includes('/') ? a(python) : python },
  };
}
