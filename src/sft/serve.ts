import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EngineClient } from '../engine/index.ts';
import { checkCheckpointFolder } from '../run/checkpoints.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { listenError } from '../util/net.ts';
import {
  type GenerateBackend,
  GenerateBatcher,
  JobCancelledError,
  jobWork,
  type PromptResult,
  QueueFullError,
  type SubmitOptions,
} from './generate-batcher.ts';
import { DEFAULT_SERVE_LIMITS, type ServeLimits } from './serve-limits.ts';
import {
  BAD_COMPLETION_REQUEST,
  type ParsedRequest,
  parseChatRequest,
  parseCompletionRequest,
  REQUEST_TOO_LARGE,
  RequestError,
} from './serve-request.ts';
import { choiceOf, chunkChoices, decodeSample, type Endpoint, envelope, usageOf } from './serve-response.ts';

/**
 * An OpenAI-compatible server over the engine: `POST /v1/completions` (prompts as text or token ids),
 * `POST /v1/chat/completions` (messages rendered with the model's chat template), both with n,
 * temperature, top_p, max_tokens, stop, seed and `stream` (server-sent events), and `GET /v1/models`.
 * The engine runs one generate call at a time; waiting requests share bounded calls round-robin
 * (GenerateBatcher), which changes no sample since every prompt carries its own seed. Body size, work
 * per request and queued work are bounded (ServeLimits). This is how a checkpoint becomes a teacher
 * for `simplerl distill`, and how any OpenAI client can query it.
 */

export type { GenerateBackend } from './generate-batcher.ts';
export { JOB_CANCELLED, QUEUE_FULL } from './generate-batcher.ts';
export { DEFAULT_SERVE_LIMITS, type ServeLimits } from './serve-limits.ts';
export { BAD_COMPLETION_REQUEST, REQUEST_TOO_LARGE } from './serve-request.ts';

export const NOT_SERVED = 'no such route';

export interface CompletionsAppOptions {
  engine: GenerateBackend;
  tokenizer: TextTokenizer;
  /** Name listed by /v1/models and accepted in the `model` field. */
  modelName: string;
  /** Context length (prompt + max_tokens must fit); from config.json max_position_embeddings. */
  maxModelLen?: number;
  /** Size and work limits (defaults: DEFAULT_SERVE_LIMITS). */
  limits?: Partial<ServeLimits>;
  /** Receives the batcher, so that tests and logs can read its counters. */
  onBatcher?: (batcher: GenerateBatcher) => void;
}

function errorBody(message: string, status: number, param: string | null = null) {
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param, code: status } };
}

/** Request errors, a full queue and a gone client as OpenAI-style JSON; anything else goes to onError. */
function errorResponse(c: Context, err: unknown): Response {
  if (err instanceof RequestError) return c.json(errorBody(err.message, err.status, err.param), err.status);
  if (err instanceof QueueFullError) return c.json(errorBody(err.message, 429), 429);
  // 499 (nginx's "client closed request"): nobody reads it, the client is gone.
  if (err instanceof JobCancelledError) return c.json(errorBody(err.message, 499), 499 as 400);
  throw err;
}

/** Ids that stop generation: the eos tokens and every stop string that is exactly one token. */
function stopIdsOf(tok: TextTokenizer, stop: string[]): Set<number> {
  const ids = new Set(tok.eosTokenIds);
  for (const s of stop) {
    const id = tok.tokenToId(s);
    if (id !== undefined && tok.encode(s).length === 1) ids.add(id);
  }
  return ids;
}

interface Served {
  opts: CompletionsAppOptions;
  batcher: GenerateBatcher;
  limits: ServeLimits;
}

async function readBody(c: Context): Promise<unknown> {
  return c.req.json().catch((err) => {
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: the body is not valid JSON`, 400, null, {
      cause: err,
    });
  });
}

function submit(
  s: Served,
  req: ParsedRequest,
  stopIds: Set<number>,
  signal: AbortSignal,
  onPrompt?: SubmitOptions['onPrompt'],
) {
  const args = {
    n: req.n,
    temperature: req.temperature,
    topP: req.topP,
    maxNewTokens: req.maxTokens,
    stopIds: [...stopIds],
  };
  const seeds = req.prompts.map((_, i) => req.seed + i);
  return s.batcher.submit(req.prompts, seeds, args, { signal, onPrompt });
}

/** The whole answer once every prompt's samples are in. */
async function answer(c: Context, s: Served, endpoint: Endpoint, req: ParsedRequest): Promise<Response> {
  const tok = s.opts.tokenizer;
  const stopIds = stopIdsOf(tok, req.stop);
  const out = await submit(s, req, stopIds, c.req.raw.signal);
  let numCompletionTokens = 0;
  const choices = out.finish.map((_, k) => {
    const sample = decodeSample(tok, out, k, stopIds, req.stop);
    numCompletionTokens += out.offsets[k + 1] - out.offsets[k];
    return choiceOf(endpoint, tok, req, sample, k, Math.floor(k / req.n));
  });
  return c.json({
    ...envelope(endpoint, s.opts.modelName, false),
    choices,
    usage: usageOf(req, numCompletionTokens),
  });
}

/**
 * Server-sent events in OpenAI's chunk format, ending with `data: [DONE]`. The engine returns whole
 * samples, so each choice arrives as one content chunk when its prompt's batch is done (prompts of a
 * large request finish batch by batch); a client that goes away cancels the request's queued prompts.
 */
function streamAnswer(c: Context, s: Served, endpoint: Endpoint, req: ParsedRequest): Response {
  const tok = s.opts.tokenizer;
  const stopIds = stopIdsOf(tok, req.stop);
  const head = envelope(endpoint, s.opts.modelName, true);
  return streamSSE(c, async (stream) => {
    const ac = new AbortController();
    stream.onAbort(() => ac.abort());
    c.req.raw.signal.addEventListener('abort', () => ac.abort(), { once: true });
    let writes = Promise.resolve();
    let numCompletionTokens = 0;
    const onPrompt = (i: number, r: PromptResult) => {
      const choices = r.finish.flatMap((_, j) => {
        numCompletionTokens += r.offsets[j + 1] - r.offsets[j];
        const sample = decodeSample(tok, r, j, stopIds, req.stop);
        return chunkChoices(choiceOf(endpoint, tok, req, sample, i * req.n + j, i));
      });
      for (const choice of choices)
        writes = writes.then(() => stream.writeSSE({ data: JSON.stringify({ ...head, choices: [choice] }) }));
    };
    try {
      await submit(s, req, stopIds, ac.signal, onPrompt);
    } catch (err) {
      if (err instanceof JobCancelledError) return;
      const status = err instanceof QueueFullError ? 429 : 500;
      await writes;
      await stream.writeSSE({
        data: JSON.stringify(
          errorBody(`${status === 500 ? 'engine error: ' : ''}${(err as Error).message}`, status),
        ),
      });
      return;
    }
    await writes;
    if (req.isUsageStreamed)
      await stream.writeSSE({
        data: JSON.stringify({ ...head, choices: [], usage: usageOf(req, numCompletionTokens) }),
      });
    await stream.writeSSE({ data: '[DONE]' });
  });
}

function route(s: Served, endpoint: Endpoint) {
  const parse = endpoint === 'chat' ? parseChatRequest : parseCompletionRequest;
  const ctx = { ...s.opts, limits: s.limits };
  return async (c: Context) => {
    try {
      const req = parse(await readBody(c), ctx);
      // A queue that is full answers 429 before any stream starts.
      s.batcher.checkRoom(jobWork(req.prompts.length, { n: req.n, maxNewTokens: req.maxTokens }));
      return req.isStream ? streamAnswer(c, s, endpoint, req) : await answer(c, s, endpoint, req);
    } catch (err) {
      return errorResponse(c, err);
    }
  };
}

/** The Hono app of the completions server (exported for tests; `serveModel` runs it). */
export async function createCompletionsApp(opts: CompletionsAppOptions): Promise<Hono> {
  const { Hono } = await import('hono');
  const { bodyLimit } = await import('hono/body-limit');
  const app = new Hono();
  const limits = { ...DEFAULT_SERVE_LIMITS, ...opts.limits };
  // The engine answers one call at a time; waiting requests share bounded calls round-robin.
  const batcher = new GenerateBatcher(opts.engine, limits);
  opts.onBatcher?.(batcher);
  const served: Served = { opts, batcher, limits };
  const limitBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: (c) =>
      c.json(
        errorBody(
          `${REQUEST_TOO_LARGE}: the body is over this server's limit of ${limits.maxBodyBytes} bytes (--max-body-bytes)`,
          413,
        ),
        413,
      ),
  });

  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: [
        {
          id: opts.modelName,
          object: 'model',
          created: 0,
          owned_by: 'simplerl',
          max_model_len: opts.maxModelLen ?? null,
        },
      ],
    }),
  );
  app.get('/health', (c) => c.text('ok'));
  app.post('/v1/completions', limitBody, route(served, 'completion'));
  app.post('/v1/chat/completions', limitBody, route(served, 'chat'));

  // OpenAI clients read the error from JSON; say which routes exist.
  app.notFound((c) =>
    c.json(
      errorBody(
        `${NOT_SERVED}: ${c.req.method} ${c.req.path}; this server has POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health`,
        404,
      ),
      404,
    ),
  );
  app.onError((err, c) => c.json(errorBody(`engine error: ${err.message}`, 500), 500));
  return app;
}

/** Context length of a Hugging Face folder (config.json max_position_embeddings), if stated. */
export function readMaxModelLen(modelDir: string): number | undefined {
  const path = join(modelDir, 'config.json');
  if (!existsSync(path)) return undefined;
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as { max_position_embeddings?: unknown };
  return typeof cfg.max_position_embeddings === 'number' ? cfg.max_position_embeddings : undefined;
}

export interface ServeHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

export { PORT_IN_USE } from '../util/net.ts';

/** Fails early (before a model is loaded, which can take minutes) when host:port cannot be bound. */
export async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const { createServer } = await import('node:net');
  await new Promise<void>((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(listenError(err, port, host)));
    probe.listen(port, host, () => probe.close(() => resolvePromise()));
  });
}

/** Starts an HTTP server for `app` on host:port (port 0 picks a free one). */
export async function listen(app: Hono, port: number, host: string): Promise<ServeHandle> {
  const { serve } = await import('@hono/node-server');
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      resolvePromise({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', (err) => reject(listenError(err, port, host)));
  });
}

export interface ServeModelOptions {
  modelDir: string;
  port?: number;
  host?: string;
  /** Name in /v1/models; default the folder name. */
  modelName?: string;
  /** The engine to use (default: start one, load the model as policy). */
  engine?: GenerateBackend;
  /** Engine start options when no engine is given (it is started and `modelDir` loaded as policy). */
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  dtype?: 'auto' | 'float32' | 'bfloat16';
  onLog?: (line: string) => void;
  limits?: Partial<ServeLimits>;
}

/** Loads the tokenizer, the engine (unless given) and serves; `close()` stops both. */
export async function serveModel(opts: ServeModelOptions): Promise<ServeHandle & { modelName: string }> {
  const modelDir = resolve(opts.modelDir);
  await checkCheckpointFolder(modelDir);
  const tokenizer = await TextTokenizer.fromDir(modelDir);
  const modelName = opts.modelName ?? basename(modelDir);
  let owned: EngineClient | undefined;
  let engine = opts.engine;
  if (!engine) {
    await checkPortFree(opts.port ?? 8000, opts.host ?? '127.0.0.1');
    const { EngineClient } = await import('../engine/index.ts');
    owned = await EngineClient.start({
      device: opts.device ?? 'auto',
      ...(opts.threads ? { threads: opts.threads } : {}),
      ...(opts.onLog ? { onLog: opts.onLog } : {}),
    });
    try {
      await owned.load({ role: 'policy', path: modelDir, dtype: opts.dtype ?? 'auto' });
    } catch (err) {
      await owned.shutdown();
      throw err;
    }
    engine = owned;
  }
  const app = await createCompletionsApp({
    engine,
    tokenizer,
    modelName,
    maxModelLen: readMaxModelLen(modelDir),
    limits: opts.limits,
  });
  let handle: ServeHandle;
  try {
    handle = await listen(app, opts.port ?? 8000, opts.host ?? '127.0.0.1');
  } catch (err) {
    await owned?.shutdown();
    throw err;
  }
  return {
    ...handle,
    modelName,
    close: async () => {
      await handle.close();
      await owned?.shutdown();
    },
  };
}
