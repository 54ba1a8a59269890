// EngineClient: spawns `python -m simplerl_engine`, speaks PROTOCOL.md frames over its Unix socket.
// One pending-request map keyed by id; every frame (answer or heartbeat) resets a watchdog; the engine's
// exit rejects everything pending and later with EngineDiedError carrying its stderr tail.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE_DIED, ENGINE_HUNG, ENGINE_START_FAILED, EngineDiedError, EngineError } from './errors.ts';
import { decodeFrame, encodeFrame, FrameReader, type WireArray } from './frames.ts';
import { noticeBusy, pickThreads } from './threads.ts';
import type {
  ForwardArgs,
  ForwardResult,
  GenerateArgs,
  GenerateResult,
  HelloResult,
  LoadArgs,
  LoadResult,
  Ragged,
  SaveArgs,
  SeqBatch,
  StartOptions,
  TrainArgs,
  TrainBatch,
  TrainStats,
} from './types.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const ENGINE_DIR = join(REPO_ROOT, 'engine');
export const READY_LINE = 'SIMPLERL_ENGINE_READY';

export interface Reply {
  result: Record<string, unknown>;
  arrays: Record<string, WireArray>;
}

/** Frames read before the client object exists (a heartbeat can beat the constructor) wait here. */
interface Inbox {
  early: Uint8Array[];
  deliver: (frame: Uint8Array) => void;
}

interface Pending {
  op: string;
  resolve: (v: Reply) => void;
  reject: (e: Error) => void;
}

// One process-wide 'exit' hook kills every engine still running, so none outlives its controller.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

/** Why an engine that nobody here killed got SIGKILL, most of the time. */
export const KILLED_FROM_OUTSIDE =
  "killed by SIGKILL from outside, most often the kernel's out-of-memory killer (see dmesg or journalctl -k); " +
  'if so, lower the memory a step needs (simplerl plan CONFIG shows it)';

/** Threads from the free cores when none were given; none (torch's choice) under a launcher. */
async function autoThreads(opts: StartOptions): Promise<number | undefined> {
  if (opts.launcherArgs !== undefined) return undefined; // torchrun sets OMP_NUM_THREADS per rank
  const choice = await pickThreads();
  (opts.onThreads ?? noticeBusy)(choice);
  return choice.threads;
}

export function defaultPython(): string {
  return process.env.SIMPLERL_PYTHON || join(REPO_ROOT, '.venv', 'bin', 'python');
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function mapKeys(
  o: Record<string, unknown> | undefined,
  f: (k: string) => string,
): Record<string, unknown> | undefined {
  if (o === undefined) return undefined;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [f(k), v]));
}

export class EngineClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private died: EngineDiedError | null = null;
  private killReason: string | null = null;
  private stderrTail: string[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    private readonly socket: Socket,
    private readonly opts: Required<Pick<StartOptions, 'heartbeatTimeoutMs' | 'stderrTailLines'>>,
    stderrTail: string[],
    closed: Promise<[number | null, NodeJS.Signals | null]>,
    inbox: Inbox,
  ) {
    this.stderrTail = stderrTail;
    inbox.deliver = (frame) => this.onFrame(frame);
    for (const frame of inbox.early.splice(0)) this.onFrame(frame);
    socket.on('error', () => {}); // the process exit reports the failure
    this.exited = closed.then(([code, signal]) => {
      liveChildren.delete(child);
      this.onExit(code, signal);
    });
    this.armWatchdog();
    this.setRef(false);
  }

  /** Spawns the engine and waits for its ready line, then connects. */
  static async start(opts: StartOptions = {}): Promise<EngineClient> {
    const python = opts.python ?? defaultPython();
    const socketPath = join(tmpdir(), `simplerl-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
    const args = [
      ...(opts.launcherArgs ?? []),
      ...['-m', 'simplerl_engine', '--socket', socketPath, '--device', opts.device ?? 'auto'],
    ];
    const threads = opts.threads ?? (await autoThreads(opts));
    if (threads) args.push('--threads', String(threads));
    if (opts.heartbeatIntervalS) args.push('--heartbeat-s', String(opts.heartbeatIntervalS));
    const pythonPath = [ENGINE_DIR, process.env.PYTHONPATH].filter(Boolean).join(':');
    if (!opts.python && !process.env.SIMPLERL_PYTHON && !existsSync(python)) {
      throw new EngineDiedError(
        `${ENGINE_START_FAILED}: no Python at ${python} (run npm run setup:python or set SIMPLERL_PYTHON)`,
        null,
        null,
        '',
      );
    }
    const fromEnv = !opts.python && !!process.env.SIMPLERL_PYTHON;
    if (fromEnv && python.includes('/') && !existsSync(python)) {
      throw new EngineDiedError(
        `${ENGINE_START_FAILED}: SIMPLERL_PYTHON=${python}: no such file (point it at a Python with torch, ` +
          'msgpack, safetensors and numpy, or unset it to use the .venv of npm run setup:python)',
        null,
        null,
        '',
      );
    }
    const child = spawn(python, args, {
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C or `timeout`'s SIGTERM to the controller's group must not
      // reach the engine, the controller owns shutdown (it finishes the step and saves first). The engine
      // still dies with the controller: it exits on the socket's EOF or a failed heartbeat (server.py),
      // and the 'exit' hook above SIGKILLs it.
      detached: true,
    });
    trackChild(child);
    // listened to from the spawn on, so an exit between the ready line and the constructor is not lost
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('close', (code, signal) => resolve([code, signal])),
    );
    const tailLines = opts.stderrTailLines ?? 50;
    const tail: string[] = [];
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > tailLines) tail.shift();
        opts.onLog?.(line);
      }
    });
    child.stderr!.on('end', () => {
      if (partial) tail.push(partial);
      if (tail.length > tailLines) tail.shift();
    });
    const reader = new FrameReader();
    const inbox: Inbox = { early: [], deliver: (frame) => inbox.early.push(frame) };
    const socket = await new Promise<Socket>((resolve, reject) => {
      let out = '';
      const fail = (why: string, code: number | null = null, signal: string | null = null) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new EngineDiedError(`${ENGINE_START_FAILED}: ${why}`, code, signal, tail.join('\n')));
      };
      const timer = setTimeout(
        () => fail(`no ready line within ${opts.startTimeoutMs ?? 120000} ms`),
        opts.startTimeoutMs ?? 120000,
      );
      const onSpawnError = (e: Error) => fail(`spawn ${python}: ${e.message}`);
      const onEarlyClose = (code: number | null, signal: string | null) =>
        fail('exited before it was ready', code, signal);
      child.once('error', onSpawnError);
      child.once('close', onEarlyClose);
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (s: string) => {
        out += s;
        if (!out.includes('\n')) return;
        const line = out.split('\n')[0];
        if (!line.startsWith(READY_LINE)) return fail(`unexpected first line on stdout: ${line}`);
        clearTimeout(timer);
        child.off('close', onEarlyClose);
        child.off('error', onSpawnError);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume(); // stray prints must not fill the pipe
        // reads land straight in the frame buffers (no per-chunk allocation or copy)
        const sock = connect({
          path: line.slice(READY_LINE.length + 1),
          onread: {
            buffer: () => reader.readTarget(),
            callback: (n: number) => {
              const frame = reader.advance(n);
              if (frame) inbox.deliver(frame);
              return true;
            },
          },
        });
        sock.once('connect', () => resolve(sock));
        sock.once('error', (e) => fail(`connect: ${e.message}`));
      });
    });
    socket.removeAllListeners('error');
    return new EngineClient(
      child,
      socket,
      { heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 30000, stderrTailLines: tailLines },
      tail,
      closed,
      inbox,
    );
  }

  /** Sends one request; resolves with the result map and arrays, rejects with EngineError / EngineDiedError.
   * Arrays are written from their own memory (no copy): leave them unchanged until the call settles. */
  async call(
    op: string,
    args: Record<string, unknown> = {},
    arrays: Record<string, WireArray | undefined> = {},
  ): Promise<Reply> {
    const present = Object.fromEntries(Object.entries(arrays).filter(([, v]) => v !== undefined)) as Record<
      string,
      WireArray
    >;
    return this.sendRaw(op, (id) => encodeFrame({ id, op, args }, present));
  }

  /** Sends a frame built for request `id` (protocol tests send hand-made, even malformed, frames). */
  async sendRaw(op: string, build: (id: number) => Uint8Array[]): Promise<Reply> {
    if (this.died) throw this.died;
    const id = this.nextId++;
    const parts = build(id);
    const promise = new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { op, resolve, reject });
    });
    this.setRef(true);
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
    return promise;
  }

  async hello(): Promise<HelloResult> {
    return camelKeys((await this.call('hello')).result) as unknown as HelloResult;
  }

  async load(a: LoadArgs): Promise<LoadResult> {
    const { result } = await this.call('load', {
      role: a.role,
      path: a.path,
      config: a.config,
      seed: a.seed,
      dtype: a.dtype,
      value_head_from: a.valueHeadFrom,
      optim: mapKeys(a.optim as Record<string, unknown> | undefined, snake),
      grad_checkpointing: a.gradCheckpointing,
      resume_optimizer: a.resumeOptimizer,
    });
    return { ...camelKeys(result), config: result.config } as unknown as LoadResult;
  }

  async generate(prompts: Ragged, a: GenerateArgs): Promise<GenerateResult> {
    const { result, arrays } = await this.call(
      'generate',
      {
        role: a.role,
        n: a.n,
        temperature: a.temperature,
        top_p: a.topP,
        top_k: a.topK,
        max_new_tokens: a.maxNewTokens,
        stop_ids: a.stopIds,
        seeds: a.seeds,
        seed: a.seed,
        max_rows_per_wave: a.maxRowsPerWave,
      },
      { ids: prompts.ids, offsets: prompts.offsets },
    );
    return {
      ids: arrays.ids as Int32Array,
      offsets: arrays.offsets as Int32Array,
      logprobs: arrays.logprobs as Float32Array,
      finish: result.finish as GenerateResult['finish'],
      numTokens: result.num_tokens as number,
      seconds: result.seconds as number,
    };
  }

  async forward(b: SeqBatch, a: ForwardArgs): Promise<ForwardResult> {
    const { arrays } = await this.call(
      'forward',
      {
        role: a.role,
        outputs: a.outputs,
        temperature: a.temperature,
        micro_batch_tokens: a.microBatchTokens,
      },
      { ids: b.ids, offsets: b.offsets, prompt_lens: b.promptLens },
    );
    return arrays as ForwardResult;
  }

  async train(b: TrainBatch, a: TrainArgs): Promise<TrainStats> {
    const { result } = await this.call(
      'train',
      {
        role: a.role,
        loss: a.loss,
        loss_args: mapKeys(a.lossArgs, snake),
        loss_norm: a.lossNorm,
        temperature: a.temperature,
        micro_batch_tokens: a.microBatchTokens,
        step: a.step,
      },
      {
        ids: b.ids,
        offsets: b.offsets,
        prompt_lens: b.promptLens,
        mask: b.mask,
        advantages: b.advantages,
        old_logprobs: b.oldLogprobs,
        ref_logprobs: b.refLogprobs,
        returns: b.returns,
        old_values: b.oldValues,
      },
    );
    return camelKeys(result) as unknown as TrainStats;
  }

  async save(a: SaveArgs): Promise<{ path: string; bytes: number }> {
    return (await this.call('save', { role: a.role, path: a.path, optimizer: a.optimizer })).result as {
      path: string;
      bytes: number;
    };
  }

  async stats(): Promise<Record<string, unknown>> {
    return (await this.call('stats')).result;
  }

  /** Asks the engine to exit; kills it if it has not exited within timeoutMs. Idempotent. */
  async shutdown(timeoutMs = 10000): Promise<void> {
    if (!this.died && !this.shuttingDown) {
      this.shuttingDown = true;
      await this.call('shutdown').catch(() => {});
      this.socket.end();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the engine at once (SIGKILL); pending calls reject with EngineDiedError. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  get isAlive(): boolean {
    return this.died === null;
  }

  private onFrame(bytes: Uint8Array): void {
    this.armWatchdog();
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(bytes);
    } catch (e) {
      // the stream cannot be trusted past a frame we cannot read: end the engine, report it as died
      this.killReason = `${ENGINE_DIED}: unreadable frame from the engine (${(e as Error).message}); killed it`;
      this.child.kill('SIGKILL');
      return;
    }
    const { header, arrays } = frame;
    const id = header.id as number | null;
    if (id === 0) return; // event: heartbeat (its arrival already reset the watchdog)
    // a frame the engine could not read is answered with id null; answers come in order, so it is the oldest
    const key = id ?? this.pending.keys().next().value;
    const p = key === undefined ? undefined : this.pending.get(key);
    if (!p || key === undefined) return;
    this.pending.delete(key);
    if (this.pending.size === 0) this.setRef(false);
    if (header.ok) {
      p.resolve({ result: (header.result ?? {}) as Record<string, unknown>, arrays });
    } else {
      const e = header.error as { type: string; message: string; traceback?: string };
      p.reject(new EngineError(e.type, e.message, p.op, e.traceback));
    }
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.died) return;
    this.watchdog = setTimeout(() => {
      this.killReason = `${ENGINE_HUNG}: no frame for ${this.opts.heartbeatTimeoutMs} ms; killed it`;
      this.child.kill('SIGKILL');
    }, this.opts.heartbeatTimeoutMs);
    this.watchdog.unref();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const reason =
      this.killReason ??
      (this.shuttingDown
        ? 'simplerl engine was shut down'
        : signal === 'SIGKILL'
          ? `${ENGINE_DIED}: ${KILLED_FROM_OUTSIDE}`
          : ENGINE_DIED);
    this.died = new EngineDiedError(reason, code, signal, this.stderrTail.join('\n'));
    for (const p of this.pending.values()) p.reject(this.died);
    this.pending.clear();
    this.socket.destroy();
  }

  // Idle: the engine must not keep the controller's event loop alive (the exit hook kills it).
  private setRef(on: boolean): void {
    for (const h of [this.child, this.socket, this.child.stdout, this.child.stderr] as Array<{
      ref?: () => void;
      unref?: () => void;
    } | null>) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }
}

function camelKeys(o: Record<string, unknown>): Record<string, unknown> {
  return mapKeys(o, camel) as Record<string, unknown>;
}
