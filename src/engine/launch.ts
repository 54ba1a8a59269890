// Starting the engine as N ranks under torchrun (issue 10). The controller spawns
// `python -m simplerl_engine.launch <torchrun options> -m simplerl_engine --socket ...`: torchrun with a
// failure line naming the rank that failed (engine/simplerl_engine/launch.py). Rank 0 binds the socket and
// prints the ready line; the other ranks follow it through collectives (gloo on CPU, NCCL on GPUs).
//
// One node: `--standalone --nproc-per-node N`. Several nodes: set SIMPLERL_TORCHRUN_ARGS to torchrun's
// rendezvous options for this node (e.g. `--nnodes 2 --node-rank 0 --rdzv-backend c10d
// --rdzv-endpoint host0:29500`) and start the same torchrun command on the other nodes (README).
import { EngineClient } from './client.ts';
import type { StartOptions } from './types.ts';

/** Environment variable with torchrun's rendezvous options (multi-node); replaces `--standalone`. */
export const TORCHRUN_ARGS_ENV = 'SIMPLERL_TORCHRUN_ARGS';
/** Start of the launcher's line about a failed rank (launch.py RANK_FAILED). */
export const RANK_FAILED = 'simplerl_engine: rank';

/** Interpreter arguments that start `nproc` ranks per node under torchrun. */
export function torchrunArgs(nproc: number, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!Number.isInteger(nproc) || nproc < 1)
    throw new Error(`engine.nproc must be an integer >= 1, got ${nproc}`);
  const extra = env[TORCHRUN_ARGS_ENV]?.trim();
  const rendezvous = extra ? extra.split(/\s+/) : ['--standalone'];
  return ['-m', 'simplerl_engine.launch', ...rendezvous, `--nproc-per-node=${nproc}`];
}

/** Starts the engine: one process when nproc is 1 (exactly as before), else nproc ranks per node. */
export async function startEngineRanks(nproc: number, opts: StartOptions = {}): Promise<EngineClient> {
  if (nproc === 1) return EngineClient.start(opts);
  return EngineClient.start({
    ...opts,
    launcherArgs: [...torchrunArgs(nproc), ...(opts.launcherArgs ?? [])],
  });
}

export interface RankFailure {
  rank: number;
  exitCode: number;
  signal: string;
  /** The failed rank's last stderr lines. */
  stderrTail: string[];
}

/** The launcher's report of the first rank that failed, found in an engine's stderr (tail), or null. */
export function parseRankFailure(stderr: string): RankFailure | null {
  const lines = stderr.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^simplerl_engine: rank (\d+) failed: exit code (-?\d+) \(([^)]*)\)/.exec(lines[i]);
    if (!m) continue;
    const tail: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith('  | '); j++) tail.push(lines[j].slice(4));
    return { rank: Number(m[1]), exitCode: Number(m[2]), signal: m[3], stderrTail: tail };
  }
  return null;
}
