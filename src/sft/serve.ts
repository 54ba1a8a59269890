import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Hono } from 'hono';
import type { EngineClient } from '../engine/index.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { listenError } from '../util/net.ts';
import { type GenerateBackend, GenerateBatcher } from './generate-batcher.ts';

/**
 * An OpenAI-compatible completions server over the engine: `POST /v1/completions` (prompts as text or
 * token ids, n, temperature, top_p, max_tokens, stop, seed) and `GET /v1/models`. The engine runs one
 * generate call at a time; requests that wait with the same sampling arguments are merged into one
 * call (GenerateBatcher), which changes no sample since every prompt carries its own seed. This is how
 * a checkpoint becomes a teacher for `simplerl distill`, and how any OpenAI client can query it.
 */

export type { GenerateBackend } from './generate-batcher.ts';

/** Error prefix of a request the server refuses (HTTP 400). */
export const BAD_COMPLETION_REQUEST = 'bad completion request';

export const NOT_SERVED = 'no such route';

export interface CompletionsAppOptions {
  engine: GenerateBackend;
  tokenizer: TextTokenizer;
  /** Name listed by /v1/models and accepted in the `model` field. */
  modelName: string;
  /** Context length (prompt + max_tokens must fit); from config.json max_position_embeddings. */
  maxModelLen?: number;
  /** Most prompts merged into one engine call (default 256). */
  maxBatchPrompts?: number;
}

class RequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

interface ParsedRequest {
  prompts: number[][];
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  stop: string[];
  seed: number;
  logprobs: boolean;
  echoPromptText: string[] | null;
}

function num(
  body: Record<string, unknown>,
  key: string,
  dflt: number,
  check: (x: number) => boolean,
  rule: string,
): number {
  const v = body[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !check(v))
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: ${key} ${rule}, got ${JSON.stringify(v)}`, 400, key);
  return v;
}

function isIdList(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((t) => Number.isInteger(t));
}

function parseRequest(body: unknown, opts: CompletionsAppOptions): ParsedRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: the body must be a JSON object`);
  const b = body as Record<string, unknown>;
  if (b.model !== undefined && b.model !== opts.modelName)
    throw new RequestError(
      `The model \`${String(b.model)}\` does not exist; this server serves \`${opts.modelName}\``,
      404,
      'model',
    );
  if (b.stream) throw new RequestError(`${BAD_COMPLETION_REQUEST}: stream is not supported`, 400, 'stream');
  const tok = opts.tokenizer;
  let prompts: number[][];
  const p = b.prompt;
  if (typeof p === 'string') prompts = [tok.encode(p)];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string'))
    prompts = p.map((x) => tok.encode(x));
  else if (isIdList(p) && p.length > 0) prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every(isIdList)) prompts = p as number[][];
  else
    throw new RequestError(
      `${BAD_COMPLETION_REQUEST}: prompt must be a string, a list of strings, or token ids`,
      400,
      'prompt',
    );
  for (const ids of prompts) {
    if (ids.length === 0)
      throw new RequestError(`${BAD_COMPLETION_REQUEST}: a prompt encodes to no tokens`, 400, 'prompt');
    for (const id of ids)
      if (id < 0 || id >= tok.vocabSize)
        throw new RequestError(
          `${BAD_COMPLETION_REQUEST}: token id ${id} is outside the vocabulary`,
          400,
          'prompt',
        );
  }
  const n = num(
    b,
    'n',
    1,
    (x) => Number.isInteger(x) && x >= 1 && x <= 1024,
    'must be an integer in [1, 1024]',
  );
  const bestOf = num(b, 'best_of', n, (x) => x === n, 'other than n is not supported');
  void bestOf;
  const temperature = num(b, 'temperature', 1, (x) => x >= 0 && x <= 10, 'must be in [0, 10]');
  const topP = num(b, 'top_p', 1, (x) => x > 0 && x <= 1, 'must be in (0, 1]');
  const maxTokens = num(
    b,
    'max_tokens',
    16,
    (x) => Number.isInteger(x) && x >= 1,
    'must be a positive integer',
  );
  const seed = num(b, 'seed', Math.floor(Math.random() * 2 ** 31), Number.isInteger, 'must be an integer');
  let stop: string[] = [];
  if (typeof b.stop === 'string') stop = [b.stop];
  else if (Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string'))
    stop = (b.stop as string[]).filter((s) => s !== '');
  else if (b.stop !== undefined && b.stop !== null)
    throw new RequestError(
      `${BAD_COMPLETION_REQUEST}: stop must be a string or a list of strings`,
      400,
      'stop',
    );
  if (opts.maxModelLen !== undefined)
    for (const ids of prompts)
      if (ids.length + maxTokens > opts.maxModelLen)
        throw new RequestError(
          `${BAD_COMPLETION_REQUEST}: prompt (${ids.length} tokens) + max_tokens (${maxTokens}) exceeds the model's context of ${opts.maxModelLen} tokens`,
          400,
          'max_tokens',
        );
  const logprobs = b.logprobs !== undefined && b.logprobs !== null && b.logprobs !== false;
  const echoPromptText = b.echo ? prompts.map((ids) => tok.decode(ids)) : null;
  return { prompts, n, temperature, topP, maxTokens, stop, seed, logprobs, echoPromptText };
}

/** Cuts `text` at the first stop string; returns the cut text and whether one was found. */
function cutAtStop(text: string, stop: string[]): [string, boolean] {
  let cut = -1;
  for (const s of stop) {
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut < 0 ? [text, false] : [text.slice(0, cut), true];
}

/** The Hono app of the completions server (exported for tests; `serveModel` runs it). */
export async function createCompletionsApp(opts: CompletionsAppOptions): Promise<Hono> {
  const { Hono } = await import('hono');
  const app = new Hono();
  const tok = opts.tokenizer;
  // The engine answers one call at a time; requests that wait together are merged into one call.
  const batcher = new GenerateBatcher(opts.engine, opts.maxBatchPrompts ?? 256);

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

  app.post('/v1/completions', async (c) => {
    let req: ParsedRequest;
    try {
      const body = await c.req.json().catch(() => {
        throw new RequestError(`${BAD_COMPLETION_REQUEST}: the body is not valid JSON`);
      });
      req = parseRequest(body, opts);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      return c.json(
        {
          error: { message: err.message, type: 'invalid_request_error', param: err.param, code: err.status },
        },
        err.status,
      );
    }
    // A stop string that is exactly one token also stops generation early; the others are cut afterwards.
    const stopIds = new Set(tok.eosTokenIds);
    for (const s of req.stop) {
      const id = tok.tokenToId(s);
      if (id !== undefined && tok.encode(s).length === 1) stopIds.add(id);
    }
    const out = await batcher.submit(
      req.prompts,
      req.prompts.map((_, i) => req.seed + i),
      {
        n: req.n,
        temperature: req.temperature,
        topP: req.topP,
        maxNewTokens: req.maxTokens,
        stopIds: [...stopIds],
      },
    );
    let numCompletionTokens = 0;
    const choices = out.finish.map((finish, k) => {
      let gen = out.ids.subarray(out.offsets[k], out.offsets[k + 1]);
      numCompletionTokens += gen.length;
      let finishReason = finish === 'stop' ? 'stop' : 'length';
      // The stop token itself is not part of the text (as OpenAI / vLLM).
      if (finish === 'stop' && gen.length > 0 && stopIds.has(gen[gen.length - 1]))
        gen = gen.subarray(0, gen.length - 1);
      const [text, isCut] = cutAtStop(tok.decode(gen, { skipSpecialTokens: true }), req.stop);
      if (isCut) finishReason = 'stop';
      const prefix = req.echoPromptText ? req.echoPromptText[Math.floor(k / req.n)] : '';
      const lp = out.logprobs.subarray(out.offsets[k], out.offsets[k] + gen.length);
      return {
        index: k,
        text: prefix + text,
        logprobs: req.logprobs
          ? {
              tokens: [...gen].map((id) => tok.idToToken(id) ?? ''),
              token_logprobs: [...lp],
              top_logprobs: null,
              text_offset: null,
            }
          : null,
        finish_reason: finishReason,
      };
    });
    const numPromptTokens = req.prompts.reduce((a, p) => a + p.length, 0);
    return c.json({
      id: `cmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: opts.modelName,
      choices,
      usage: {
        prompt_tokens: numPromptTokens,
        completion_tokens: numCompletionTokens,
        total_tokens: numPromptTokens + numCompletionTokens,
      },
    });
  });

  // OpenAI clients read the error from JSON; say which routes exist (a chat client gets 404 here).
  app.notFound((c) =>
    c.json(
      {
        error: {
          message: `${NOT_SERVED}: ${c.req.method} ${c.req.path}; this server has POST /v1/completions, GET /v1/models, GET /health`,
          type: 'invalid_request_error',
          param: null,
          code: 404,
        },
      },
      404,
    ),
  );

  app.onError((err, c) =>
    c.json(
      { error: { message: `engine error: ${err.message}`, type: 'server_error', param: null, code: 500 } },
      500,
    ),
  );
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
}

/** Loads the tokenizer, the engine (unless given) and serves; `close()` stops both. */
export async function serveModel(opts: ServeModelOptions): Promise<ServeHandle & { modelName: string }> {
  const modelDir = resolve(opts.modelDir);
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
