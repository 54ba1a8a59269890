// Live progress of a training run: a cli-progress bar with the key metrics of the last step. With
// `noTTYOutput` it also prints (one line per update) when stderr is not a terminal, e.g. in CI logs.
import cliProgress from 'cli-progress';

export interface StepProgress {
  update(step: number, metrics: Record<string, number | string>): void;
  stop(): void;
}

function fmt(v: number | string | undefined, digits = 3): string {
  if (typeof v !== 'number') return '-';
  if (v !== 0 && Math.abs(v) < 10 ** -digits) return v.toExponential(1);
  return v.toFixed(digits);
}

export function createProgress(totalSteps: number, startStep: number, enabled: boolean): StepProgress {
  if (!enabled) return { update() {}, stop() {} };
  const isTTY = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format:
        'train |{bar}| step {value}/{total} | reward {reward} | acc {acc} | len {len} | kl {kl} | {step_s}s/step | eta {eta_formatted}',
      stream: process.stderr,
      noTTYOutput: true,
      // Without a terminal (CI logs, a child process) a line per step (rendered below) plus one a minute.
      notTTYSchedule: 60_000,
      etaBuffer: 5,
      hideCursor: false,
      barsize: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalSteps, startStep, { reward: '-', acc: '-', len: '-', kl: '-', step_s: '-' });
  return {
    update(step, m) {
      bar.update(step, {
        reward: fmt(m['reward/mean']),
        acc: fmt(m['acc/train']),
        len: fmt(m['response_len/mean'], 1),
        kl: fmt(m['kl/mean'], 4),
        step_s: fmt(m['time/step_s'], 2),
      });
      if (!isTTY) bar.render();
    },
    stop() {
      bar.stop();
    },
  };
}
