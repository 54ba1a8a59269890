import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * The committed fixture, a directory of runs: zero-ppo (200 rows + 1 malformed line, rollouts, evals)
 * and zero-grpo (150 rows). Not named runs/: .gitignore ignores every folder of that name.
 */
export const FIXTURE_RUNS = join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'dashboard-run');

/** Rollouts of zero-ppo whose response says "wait" (any case), as the fixture generator lays them out. */
export const WAIT_ROLLOUT_IDS = ['p2-s50-6', 'p1-s100-1', 'p2-s100-6', 'p0-s150-0', 'p3-s150-3'];

/** A private copy of the fixture runs that a test may append to. */
export function copyFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-dashboard-'));
  for (const run of ['zero-ppo', 'zero-grpo'])
    cpSync(join(FIXTURE_RUNS, run), join(dir, 'runs', run), { recursive: true });
  return join(dir, 'runs');
}

/** Path → size, mtime and content hash of every file under `dir`: equal before and after means untouched. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else {
        const hash = createHash('sha1').update(readFileSync(path)).digest('hex');
        out[relative(dir, path)] = `${info.size} ${info.mtimeMs} ${hash}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** Reads Server-Sent Events from a fetch response, one `{event, data}` at a time. */
export function sseReader(response: Response): {
  next(): Promise<{ event: string; data: string }>;
  cancel(): void;
} {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length) return { event, data: data.join('\n') };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        buffer += value;
      }
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}
