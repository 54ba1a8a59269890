/**
 * `simplerl demo-base`: makes the base models shipped in assets/demo-bases, and checks that this code
 * reproduces them. A shipped base is exactly what the demo would pre-train and cache itself (the same
 * `pretrainBaseModel`), written where `ensureBaseModel` looks first.
 *
 * Reproduction is byte for byte with the same torch version, thread count and CPU kernels (float sums
 * are ordered by those); elsewhere the same recipe gives a different but equally trained base, and the
 * check says which of the three differs.
 */
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineClient, HelloResult } from '../engine/index.ts';
import {
  type BaseModelSpec,
  baseModelKey,
  corpusOf,
  findShippedBase,
  type PretrainReport,
  pretrainBaseModel,
} from './base-model.ts';

export interface ShipOptions {
  spec: BaseModelSpec;
  engine: EngineClient;
  hello: Pick<HelloResult, 'torch' | 'threads'>;
  shippedDir: string;
  /** only compare with the shipped base; write nothing */
  isCheck?: boolean;
  onStep?: (step: number, loss: number) => void;
}

export interface ShipResult {
  made: PretrainReport;
  /** the shipped base of the same spec and corpus before this run, if any */
  shipped: PretrainReport | null;
  /** whether the new weights are byte-identical to the shipped ones (null: nothing shipped) */
  isReproduced: boolean | null;
  /** where the new base now lives (null with isCheck) */
  writtenTo: string | null;
}

export async function makeShippedBase(opts: ShipOptions): Promise<ShipResult> {
  const corpus = corpusOf(opts.spec);
  const shipped = await findShippedBase(opts.spec, corpus, opts.shippedDir);
  const name = `base-${baseModelKey(opts.spec, opts.hello.torch, corpus)}`;
  // a check pre-trains into a scratch folder; a make pre-trains beside the shipped bases (one rename away)
  const scratch = opts.isCheck ? await mkdtemp(join(tmpdir(), 'simplerl-demo-base-')) : null;
  const madePath = join(scratch ?? opts.shippedDir, scratch ? name : `.new-${name}`);
  try {
    const made = await pretrainBaseModel(
      {
        spec: opts.spec,
        engine: opts.engine,
        hello: opts.hello,
        ...(opts.onStep ? { onStep: opts.onStep } : {}),
      },
      corpus,
      madePath,
    );
    const isReproduced = shipped ? shipped.weightsSha256 === made.weightsSha256 : null;
    if (opts.isCheck) return { made, shipped, isReproduced, writtenTo: null };
    if (shipped) await rm(shipped.path, { recursive: true, force: true });
    const dest = join(opts.shippedDir, name);
    await rm(dest, { recursive: true, force: true });
    await rename(madePath, dest);
    return { made: { ...made, path: dest, source: 'shipped' }, shipped, isReproduced, writtenTo: dest };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/** One line for the user: how the new base compares with the shipped one. */
export function describeShip(result: ShipResult): string {
  const { made, shipped, isReproduced } = result;
  const head =
    `seed ${made.spec.seed}: pre-trained in ${made.seconds.toFixed(0)} s (loss ${made.firstLoss.toFixed(3)} → ` +
    `${made.lastLoss.toFixed(3)}), weights sha256 ${made.weightsSha256.slice(0, 16)}`;
  if (!shipped) return `${head}; nothing was shipped for this spec and corpus`;
  if (isReproduced) return `${head}; reproduces the shipped base byte for byte`;
  const differs = (['torchVersion', 'threads', 'cpu'] as const)
    .filter((k) => shipped[k] !== made[k])
    .map((k) => `${k} ${String(shipped[k])} → ${String(made[k])}`);
  return (
    `${head}; differs from the shipped base (sha256 ${shipped.weightsSha256.slice(0, 16)}): ` +
    (differs.length ? differs.join(', ') : 'same torch, threads and CPU model name: a bug, please report it')
  );
}
