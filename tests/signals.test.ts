// Ctrl-C / SIGTERM to the whole process group (issue 16), as a terminal or `timeout` sends them: the engine
// ignores them (own process group, SIGINT ignored), the controller finishes the step, writes a complete
// checkpoint (its manifest verifies) and exits 130 / 143. A second Ctrl-C quits at once and leaves no
// engine behind. Then a checkpoint damaged on disk (64 KB zeroed, same size) is skipped on resume: the
// run falls back to the previous one, naming the file.
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_INTERRUPTED, EXIT_TERMINATED } from '../src/cli/commands/train.ts';
import { findLatestCheckpoint, readMetrics, SKIPPED_CHECKPOINT, verifyManifest } from '../src/run/index.ts';
import { makeTinySetup, runCli, writeTinyConfigFile } from './fixtures/train-setup.ts';

/** Runs the CLI in its own process group and signals the group (or only the controller) once `afterSteps` metrics rows exist. */
async function trainAndSignal(
  configFile: string,
  runDir: string,
  name: string,
  signals: NodeJS.Signals[],
  afterSteps = 2,
  toGroup = true,
) {
  let pid = 0;
  let numSent = 0;
  const send = () => process.kill(toGroup ? -pid : pid, signals[numSent++]);
  const watcher = setInterval(() => {
    if (pid !== 0 && numSent === 0 && readMetrics(join(runDir, 'metrics.jsonl')).rows.length >= afterSteps)
      send();
  }, 20);
  const r = await runCli(['train', configFile, '--name', name, '--set', 'run.max_steps=200'], {
    detached: true,
    onSpawn: (p) => {
      pid = p;
    },
    // a further signal only once the controller has reported the first (two identical signals sent at
    // once merge into one pending signal), and at once, while the step is still running
    onStderr: (text) => {
      if (numSent > 0 && numSent < signals.length && text.includes('again to quit now')) send();
    },
  });
  clearInterval(watcher);
  return { ...r, pid };
}

/** Processes whose command line holds the engine socket path of controller `pid`. */
function enginesOf(pid: number): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`simplerl-${pid}-`)) out.push(p);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('Ctrl-C / SIGTERM to the process group', () => {
  let dir: string;
  let configFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-signals-'));
    const setup = await makeTinySetup(dir, 8);
    configFile = writeTinyConfigFile(dir, setup, 'grpo', (yaml) =>
      yaml.replace('save_every: 2', 'save_every: 1'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [sig, code] of [
    ['SIGINT', EXIT_INTERRUPTED],
    ['SIGTERM', EXIT_TERMINATED],
  ] as const) {
    test(`${sig}: the checkpoint of the step is written and verifies; exit ${code}; no engine traceback`, async () => {
      const runDir = join(dir, 'runs', sig);
      const r = await trainAndSignal(configFile, runDir, sig, [sig], sig === 'SIGINT' ? 2 : 1);
      assert.equal(r.code, code, r.stderr);
      assert.doesNotMatch(r.stderr, /KeyboardInterrupt|Traceback|engine died/);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.equal(out.aborted, true);
      const latest = findLatestCheckpoint(runDir);
      assert.ok(latest !== null && latest.step === out.step && out.step >= 1, `stopped at ${out.step}`);
      assert.equal(await verifyManifest(latest.dir), null);
      assert.deepEqual(enginesOf(r.pid), []);
    });
  }

  test('a second Ctrl-C quits at once (exit 130), leaving no engine', async () => {
    const runDir = join(dir, 'runs', 'twice');
    const r = await trainAndSignal(configFile, runDir, 'twice', ['SIGINT', 'SIGINT'], 1);
    assert.equal(r.code, EXIT_INTERRUPTED, r.stderr);
    assert.match(r.stderr, /SIGINT again: quitting now/);
    assert.equal(r.stdout, ''); // no result line: it did not finish the step
    assert.deepEqual(enginesOf(r.pid), []);
  });

  test('SIGKILL of the controller alone: its engine (own process group) exits too', async () => {
    const runDir = join(dir, 'runs', 'killed');
    const r = await trainAndSignal(configFile, runDir, 'killed', ['SIGKILL'], 1, false);
    assert.equal(r.signal, 'SIGKILL');
    const deadline = Date.now() + 20_000; // socket EOF, or a failed heartbeat (every 2 s) mid-op
    while (enginesOf(r.pid).length > 0 && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(enginesOf(r.pid), []);
  });

  test('resume skips a checkpoint with 64 KB zeroed in model.safetensors and falls back, naming the file', async () => {
    const runDir = join(dir, 'runs', 'SIGINT');
    const latest = findLatestCheckpoint(runDir)!;
    const file = join(latest.dir, 'policy', 'model.safetensors');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024), 0, 64 * 1024, 16 * 1024); // past the header: same size
    closeSync(fd);
    const r = await runCli(['train', '--resume', runDir, '--set', `run.max_steps=${latest.step + 1}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(`${SKIPPED_CHECKPOINT} ${latest.name}: ${file}: sha256 differs`), r.stderr);
    assert.match(r.stderr, new RegExp(`resuming .* after step ${latest.step - 1} `));
    assert.ok(existsSync(`${latest.dir}.damaged`));
    assert.equal(findLatestCheckpoint(runDir)?.step, latest.step + 1);
  });
});
