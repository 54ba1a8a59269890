// The W&B tracker: rows go as JSON lines to a Python sidecar running W&B's official `wandb` package
// (W&B has no official Node SDK for metrics logging).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { defaultPython } from '../../engine/index.ts';
import type { MetricsRow } from '../metrics.ts';
import type { Tracker } from './tracker.ts';

/** Error prefix of a W&B sidecar that failed to start or to finish. */
export const WANDB_FAILED = 'wandb tracker failed';

const SIDECAR = join(import.meta.dirname, 'wandb_sidecar.py');

export interface WandbOptions {
  project: string;
  /** Run name in W&B (the run folder's name). */
  name: string;
  /** Folder under which wandb writes its `wandb/` directory (the run folder). */
  dir: string;
  /** offline: written locally, uploaded later by `wandb sync`; online: streamed to the W&B server. */
  mode: 'offline' | 'online';
  config?: unknown;
  python?: string;
}

export class WandbTracker implements Tracker {
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    // A sidecar that died mid-run: the write fails (EPIPE) and close() reports its exit and stderr.
    child.stdin?.on('error', () => {});
  }

  /** Starts the sidecar and waits until wandb.init is done. */
  static async start(opts: WandbOptions): Promise<WandbTracker> {
    const child = spawn(opts.python ?? defaultPython(), [SIDECAR], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, WANDB_MODE: opts.mode, WANDB_SILENT: 'true' },
    });
    const tracker = new WandbTracker(child);
    const { project, name, dir, mode, config } = opts;
    child.stdin?.write(`${JSON.stringify({ project, name, dir, mode, config })}\n`);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) =>
        reject(
          new Error(
            `${WANDB_FAILED}: the sidecar exited with ${code} before it was ready: ${tracker.stderr.trim()}`,
          ),
        ),
      );
      child.once('error', (err) => reject(new Error(`${WANDB_FAILED}: ${err.message}`, { cause: err })));
    });
    return tracker;
  }

  log(row: MetricsRow): void {
    this.child.stdin?.write(`${JSON.stringify(row)}\n`);
  }

  async close(): Promise<void> {
    const exited = this.child.exitCode !== null ? [this.child.exitCode] : once(this.child, 'exit');
    this.child.stdin?.end();
    const [code] = await exited;
    if (code !== 0)
      throw new Error(`${WANDB_FAILED}: the sidecar exited with ${code}: ${this.stderr.trim()}`);
  }
}
