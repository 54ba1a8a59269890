import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { RunsConfinement } from './confine.ts';
import { MetricsStore } from './metrics-store.ts';
import { RolloutStore } from './rollouts.ts';

export const RUNS_DIR_MISSING = 'runs directory not found';

/** What marks a folder as a run (see CONTRIBUTING.md, "Run layout"). */
const RUN_MARKERS = ['metrics.jsonl', 'rollouts', 'eval', 'config.yaml'];

export interface Run {
  name: string;
  dir: string;
  metrics: MetricsStore;
  rollouts: RolloutStore;
  /** Reads of this run's files stay inside the runs folder (confine.ts). */
  confinement: RunsConfinement;
}

export interface RunSummary {
  name: string;
  numRows: number;
  numMalformed: number;
  lastStep: number | null;
  modified: string | null;
}

function isRunDir(dir: string): boolean {
  return RUN_MARKERS.some((m) => existsSync(join(dir, m)));
}

/**
 * The runs under a directory, found again on every `list()` so that a run started after the
 * dashboard shows up. The directory may itself be one run. Runs are looked up by name only: a
 * name from a URL never becomes part of a path.
 */
export class RunRegistry {
  readonly root: string;
  private readonly runs = new Map<string, Run>();
  private readonly confinement: RunsConfinement;

  constructor(root: string) {
    this.root = resolve(root);
    if (!existsSync(this.root)) throw new Error(`${RUNS_DIR_MISSING}: ${this.root}`);
    this.confinement = new RunsConfinement(this.root);
  }

  async scan(): Promise<Run[]> {
    const dirs: string[] = [];
    if (existsSync(join(this.root, 'metrics.jsonl'))) dirs.push(this.root);
    else {
      for (const entry of await readdir(this.root, { withFileTypes: true })) {
        const dir = join(this.root, entry.name);
        if (entry.isDirectory() && isRunDir(dir)) dirs.push(dir);
      }
    }
    const found: Run[] = [];
    for (const dir of dirs.sort()) {
      const name = basename(dir);
      let run = this.runs.get(name);
      if (!run) {
        run = {
          name,
          dir,
          metrics: new MetricsStore(join(dir, 'metrics.jsonl'), this.confinement),
          rollouts: new RolloutStore(join(dir, 'rollouts'), this.confinement),
          confinement: this.confinement,
        };
        this.runs.set(name, run);
      }
      found.push(run);
    }
    return found;
  }

  async get(name: string): Promise<Run | undefined> {
    if (!this.runs.has(name)) await this.scan();
    return this.runs.get(name);
  }

  async list(): Promise<RunSummary[]> {
    const summaries: RunSummary[] = [];
    for (const run of await this.scan()) {
      await run.metrics.refresh();
      let modified: string | null = null;
      const metricsFile = await this.confinement.file(run.metrics.path);
      try {
        if (metricsFile !== null) modified = (await stat(metricsFile)).mtime.toISOString();
      } catch {}
      const { steps } = run.metrics;
      summaries.push({
        name: run.name,
        numRows: run.metrics.numRows,
        numMalformed: run.metrics.numMalformed,
        lastStep: steps.length ? steps[steps.length - 1] : null,
        modified,
      });
    }
    return summaries;
  }
}
