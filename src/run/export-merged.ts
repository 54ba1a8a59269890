// `simplerl export --merge`: a LoRA run's adapter (PEFT format, in each checkpoint's policy/ folder)
// merged into its base model and written as a plain Hugging Face folder that transformers and vLLM load
// without PEFT. The engine merges (W + alpha/r · B·A) and writes; this file finds the adapter and the base.
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EngineClient, LoraArgs } from '../engine/index.ts';
import { checkCheckpointFolder, findLatestCheckpoint } from './checkpoints.ts';

export const EXPORT_ERROR = 'export';
const ADAPTER_CONFIG = 'adapter_config.json';
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
];

export class ExportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`${EXPORT_ERROR}: ${message}`, options);
    this.name = 'ExportError';
  }
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** A run folder (its latest checkpoint), a checkpoint folder or an adapter folder → the adapter folder. */
export function findAdapterFolder(runOrCheckpoint: string): string {
  const p = resolve(runOrCheckpoint);
  if (!isDir(p)) throw new ExportError(`${p} is not a folder`);
  if (existsSync(join(p, ADAPTER_CONFIG))) return p;
  if (existsSync(join(p, 'policy', ADAPTER_CONFIG))) return join(p, 'policy');
  const latest = findLatestCheckpoint(p);
  if (latest !== null && existsSync(join(latest.dir, 'policy', ADAPTER_CONFIG)))
    return join(latest.dir, 'policy');
  const full =
    latest !== null ? join(latest.dir, 'policy') : existsSync(join(p, 'policy')) ? join(p, 'policy') : p;
  if (existsSync(join(full, 'config.json')))
    throw new ExportError(
      `${full} is a full model already (no ${ADAPTER_CONFIG}): nothing to merge; use it as it is`,
    );
  throw new ExportError(
    `${p} is neither a run folder, a checkpoint nor a PEFT adapter folder (no ${ADAPTER_CONFIG} found)`,
  );
}

interface AdapterConfig {
  lora: LoraArgs;
  base: string | null;
}

export function readAdapterConfig(adapterDir: string): AdapterConfig {
  const file = join(adapterDir, ADAPTER_CONFIG);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ExportError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const { r, lora_alpha: alpha, target_modules: targets } = c;
  if (typeof r !== 'number' || typeof alpha !== 'number' || !Array.isArray(targets))
    throw new ExportError(`${file}: needs r, lora_alpha and target_modules (a PEFT LoRA adapter)`);
  const base = typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null;
  return { lora: { rank: r, alpha, targetModules: targets as string[], adapterPath: adapterDir }, base };
}

export interface ExportResult {
  out: string;
  bytes: number;
  adapter: string;
  base: string;
}

/** Loads base + adapter into the engine's policy role, saves it merged into `out`, adds the tokenizer. */
export async function exportMerged(
  engine: EngineClient,
  runOrCheckpoint: string,
  out: string,
  baseOverride?: string,
): Promise<ExportResult> {
  const adapter = findAdapterFolder(runOrCheckpoint);
  await checkCheckpointFolder(adapter);
  const cfg = readAdapterConfig(adapter);
  const base = baseOverride !== undefined ? resolve(baseOverride) : cfg.base;
  if (base === null || !isDir(base))
    throw new ExportError(
      `base model ${base ?? '(not named in adapter_config.json)'} of ${adapter} is not a folder. Fix: --base DIR`,
    );
  await engine.load({ role: 'policy', path: base, lora: cfg.lora });
  const saved = await engine.save({ role: 'policy', path: resolve(out), merged: true });
  for (const f of TOKENIZER_FILES) {
    const from = [adapter, base].map((d) => join(d, f)).find((p) => existsSync(p));
    if (from !== undefined) copyFileSync(from, join(saved.path, f));
  }
  return { out: saved.path, bytes: saved.bytes, adapter, base };
}
