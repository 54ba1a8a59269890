// The one place where a training run starts its engine: scale-out (engine.nproc > 1, torchrun) plugs in here.
import type { EngineClient } from '../engine/index.ts';
import { startEngineRanks } from '../engine/launch.ts';

export const ENGINE_START_ERROR = 'cannot start the engine';

export interface EngineSettings {
  python: string | null;
  device: 'auto' | 'cpu' | 'cuda';
  threads: number | null;
  nproc: number;
}

export async function startEngine(
  settings: EngineSettings,
  onLog?: (line: string) => void,
): Promise<EngineClient> {
  // nproc > 1: torchrun with nproc ranks per node (src/engine/launch.ts); nproc 1: one process, as before
  return startEngineRanks(settings.nproc, {
    ...(settings.python !== null ? { python: settings.python } : {}),
    device: settings.device,
    ...(settings.threads !== null ? { threads: settings.threads } : {}),
    ...(onLog ? { onLog } : {}),
  });
}
