/**
 * How many torch threads an engine should use when the user did not say: the cores actually free, not
 * the cores that exist (EngineClient.start uses it for every command; the demo reports it too). On 2 cores a second busy process made 2-thread PyTorch ~10× slower in the prototype
 * (threads spin-wait for each other when one of them is descheduled), so on a busy machine fewer
 * threads are faster, and the user should be told why the demo runs slow.
 */

import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';

export interface ThreadChoice {
  threads: number;
  numCores: number;
  /** cores' worth of CPU time other processes used while we sampled (or the 1-min load average) */
  busyCores: number;
  isBusy: boolean;
  /** one line for the user */
  message: string;
}

interface CpuTimes {
  busy: number;
  total: number;
}

async function readCpuTimes(): Promise<CpuTimes | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Cores' worth of busy CPU over `sampleMs` (from /proc/stat; the 1-min load average elsewhere). */
export async function measureBusyCores(sampleMs = 500, numCores = availableParallelism()): Promise<number> {
  const a = await readCpuTimes();
  if (!a) return loadavg()[0]!;
  await new Promise((r) => setTimeout(r, sampleMs));
  const b = await readCpuTimes();
  if (!b || b.total <= a.total) return loadavg()[0]!;
  return ((b.busy - a.busy) / (b.total - a.total)) * numCores;
}

/** A busy core counts when more than this share of it is in use. */
const BUSY_SHARE = 0.5;

export function chooseThreads(busyCores: number, numCores: number, requested?: number): ThreadChoice {
  const free = Math.max(0, numCores - busyCores);
  const auto = Math.max(1, Math.min(numCores, Math.floor(free + (1 - BUSY_SHARE))));
  const threads = requested ?? auto;
  const isBusy = busyCores > BUSY_SHARE;
  const busy = `${busyCores.toFixed(1)} of ${numCores} cores busy with other processes`;
  let message: string;
  if (requested !== undefined) message = `using ${threads} thread(s) as asked (${busy})`;
  else if (isBusy)
    message =
      `machine busy: ${busy}; using ${threads} thread(s). Timings will be slower than on idle cores ` +
      '(a second busy process can make multi-threaded PyTorch ~10× slower).';
  else message = `using ${threads} thread(s) (${numCores} cores, idle)`;
  return { threads, numCores, busyCores, isBusy, message };
}

/** Samples the machine and picks the thread count; `requested` (e.g. `--threads`) wins. */
export async function pickThreads(requested?: number, sampleMs = 500): Promise<ThreadChoice> {
  const numCores = availableParallelism();
  return chooseThreads(await measureBusyCores(sampleMs, numCores), numCores, requested);
}

/** Prefix of the line said when an engine's threads were picked on a busy machine. */
export const BUSY_NOTICE = 'simplerl: engine threads:';

/** The default `onThreads`: one stderr line when the machine is busy (an idle pick needs no word). */
export function noticeBusy(choice: ThreadChoice): void {
  if (choice.isBusy) process.stderr.write(`${BUSY_NOTICE} ${choice.message}\n`);
}
