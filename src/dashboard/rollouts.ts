import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ROLLOUTS_FILE_NAME, type RolloutRow } from '../run/run-dir.ts';
import type { RunsConfinement } from './confine.ts';

/** One sampled rollout of `rollouts/step-NNNNNN.jsonl`, as read back (other writers may use numeric ids). */
export interface Rollout extends Omit<RolloutRow, 'prompt_id'> {
  prompt_id: string | number;
}

export interface RolloutFilter {
  step?: number;
  correct?: boolean;
  /** true: only rollouts cut off before they finished (hit the token limit). */
  truncated?: boolean;
  minReward?: number;
  maxReward?: number;
  /** Case-insensitive substring of the response, e.g. "wait". */
  phrase?: string;
}

export const BAD_FILTER = 'bad rollout filter';

export function matchesFilter(rollout: Rollout, filter: RolloutFilter): boolean {
  if (filter.step !== undefined && rollout.step !== filter.step) return false;
  if (filter.correct !== undefined && rollout.correct !== filter.correct) return false;
  if (filter.truncated !== undefined && !rollout.finished !== filter.truncated) return false;
  if (filter.minReward !== undefined && !(rollout.reward >= filter.minReward)) return false;
  if (filter.maxReward !== undefined && !(rollout.reward <= filter.maxReward)) return false;
  if (filter.phrase && !rollout.response.toLowerCase().includes(filter.phrase.toLowerCase())) return false;
  return true;
}

/** Reads a filter from URL query values; throws `BAD_FILTER: <field> ...` on a value that is not one. */
export function parseFilter(query: Record<string, string | undefined>): RolloutFilter {
  const filter: RolloutFilter = {};
  const number = (name: string): number | undefined => {
    const text = query[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${BAD_FILTER}: ${name}=${text} is not a number`);
    return value;
  };
  const flag = (name: string): boolean | undefined => {
    const text = query[name];
    if (text === undefined || text === '' || text === 'any') return undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    throw new Error(`${BAD_FILTER}: ${name}=${text} is not true, false or any`);
  };
  filter.step = number('step');
  filter.minReward = number('minReward');
  filter.maxReward = number('maxReward');
  filter.correct = flag('correct');
  filter.truncated = flag('truncated');
  if (query.phrase) filter.phrase = query.phrase;
  return filter;
}

function toRollout(value: unknown): Rollout | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  if (typeof r.step !== 'number' || typeof r.response !== 'string') return null;
  return {
    step: r.step,
    prompt_id: typeof r.prompt_id === 'number' || typeof r.prompt_id === 'string' ? r.prompt_id : '',
    prompt: typeof r.prompt === 'string' ? r.prompt : '',
    response: r.response,
    gold: r.gold === undefined || r.gold === null ? '' : String(r.gold),
    extracted: r.extracted === undefined || r.extracted === null ? null : String(r.extracted),
    correct: r.correct === true,
    reward: typeof r.reward === 'number' ? r.reward : Number.NaN,
    finished: r.finished !== false,
    num_tokens: typeof r.num_tokens === 'number' ? r.num_tokens : 0,
  };
}

interface CachedFile {
  size: number;
  mtimeMs: number;
  rollouts: Rollout[];
  numMalformed: number;
}

/** The rollouts of one run; each step file is parsed once and again only when its size or mtime changes. */
export class RolloutStore {
  private readonly files = new Map<string, CachedFile>();

  /** `confinement`: read only regular files inside the runs folder (confine.ts); others are absent. */
  constructor(
    readonly dir: string,
    private readonly confinement?: RunsConfinement,
  ) {}

  /** Step → file name of every `step-N.jsonl`, in step order. */
  async stepFiles(): Promise<Map<number, string>> {
    let names: string[];
    const dir = this.confinement ? await this.confinement.dir(this.dir) : this.dir;
    if (dir === null) return new Map(); // none, or a link out of the runs folder
    try {
      names = await readdir(dir);
    } catch {
      return new Map(); // no rollouts written (yet)
    }
    const found: [number, string][] = [];
    for (const name of names) {
      const m = ROLLOUTS_FILE_NAME.exec(name);
      if (m && (!this.confinement || (await this.confinement.file(join(dir, name))) !== null))
        found.push([Number(m[1]), name]);
    }
    return new Map(found.sort((a, b) => a[0] - b[0]));
  }

  async query(
    filter: RolloutFilter,
    offset = 0,
    limit = 50,
  ): Promise<{ total: number; rollouts: Rollout[]; steps: number[]; numMalformed: number }> {
    const files = await this.stepFiles();
    const steps = [...files.keys()];
    const matches: Rollout[] = [];
    let numMalformed = 0;
    for (const [step, name] of files) {
      if (filter.step !== undefined && step !== filter.step) continue;
      const file = await this.load(name);
      if (file === null) continue;
      numMalformed += file.numMalformed;
      for (const r of file.rollouts) if (matchesFilter(r, filter)) matches.push(r);
    }
    return { total: matches.length, rollouts: matches.slice(offset, offset + limit), steps, numMalformed };
  }

  private async load(name: string): Promise<CachedFile | null> {
    const path = this.confinement ? await this.confinement.file(join(this.dir, name)) : join(this.dir, name);
    if (path === null) return null;
    const info = await stat(path);
    const cached = this.files.get(path);
    if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached;
    const file: CachedFile = { size: info.size, mtimeMs: info.mtimeMs, rollouts: [], numMalformed: 0 };
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      let rollout: Rollout | null = null;
      try {
        rollout = toRollout(JSON.parse(line));
      } catch {}
      if (rollout) file.rollouts.push(rollout);
      else file.numMalformed++;
    }
    this.files.set(path, file);
    return file;
  }
}
