// The one place where a training run starts its engine: scale-out (engine.nproc > 1, torchrun) plugs in here.
import { EngineClient } from '../engine/index.ts';

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
  if (settings.nproc !== 1) {
    throw new Error(
      `${ENGINE_START_ERROR}: engine.nproc=${settings.nproc} needs the torchrun launcher, which is not built yet. ` +
        'Fix: engine.nproc=1.',
    );
  }
  return EngineClient.start({
    ...(settings.python !== null ? { python: settings.python } : {}),
    device: settings.device,
    ...(settings.threads !== null ? { threads: settings.threads } : {}),
    ...(onLog ? { onLog } : {}),
  });
}
