// Parsing and checking of /v1/completions and /v1/chat/completions request bodies.
import type { ChatMessage, TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { ServeLimits } from './serve-limits.ts';

/** Error prefix of a request the server refuses (HTTP 400). */
export const BAD_COMPLETION_REQUEST = 'bad completion request';
/** Error prefix of a request over a size limit (HTTP 413). */
export const REQUEST_TOO_LARGE = 'request too large';

export type RequestStatus = 400 | 404 | 413 | 429;

export class RequestError extends Error {
  constructor(
    message: string,
    readonly status: RequestStatus = 400,
    readonly param: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ParsedRequest {
  prompts: number[][];
  n: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  stop: string[];
  seed: number;
  logprobs: boolean;
  isStream: boolean;
  isUsageStreamed: boolean;
  echoPromptText: string[] | null;
}

export interface ParseContext {
  tokenizer: TextTokenizer;
  modelName: string;
  maxModelLen?: number;
  limits: ServeLimits;
}

type Body = Record<string, unknown>;

function num(b: Body, key: string, dflt: number, check: (x: number) => boolean, rule: string): number {
  const v = b[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !check(v))
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: ${key} ${rule}, got ${JSON.stringify(v)}`, 400, key);
  return v;
}

function isIdList(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((t) => Number.isInteger(t));
}

function asBody(body: unknown, ctx: ParseContext): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: the body must be a JSON object`);
  const b = body as Body;
  if (b.model !== undefined && b.model !== ctx.modelName)
    throw new RequestError(
      `The model \`${String(b.model)}\` does not exist; this server serves \`${ctx.modelName}\``,
      404,
      'model',
    );
  return b;
}

function parseStop(b: Body): string[] {
  if (typeof b.stop === 'string') return [b.stop];
  if (Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string'))
    return (b.stop as string[]).filter((s) => s !== '');
  if (b.stop !== undefined && b.stop !== null)
    throw new RequestError(
      `${BAD_COMPLETION_REQUEST}: stop must be a string or a list of strings`,
      400,
      'stop',
    );
  return [];
}

/** Refuses a request whose work (prompts × n × max_tokens) is over the per-request limit. */
function checkWork(numPrompts: number, n: number, maxTokens: number, limits: ServeLimits): void {
  const work = numPrompts * n * maxTokens;
  if (work > limits.maxRequestTokens)
    throw new RequestError(
      `${REQUEST_TOO_LARGE}: ${numPrompts} prompts × n ${n} × max_tokens ${maxTokens} = ${work} tokens, over this server's limit of ${limits.maxRequestTokens} per request (--max-request-tokens); split the request`,
      413,
      'prompt',
    );
}

/** The sampling fields shared by both endpoints; max_tokens defaults to `dfltMaxTokens`. */
function parseSampling(b: Body, dfltMaxTokens: number) {
  const n = num(
    b,
    'n',
    1,
    (x) => Number.isInteger(x) && x >= 1 && x <= 1024,
    'must be an integer in [1, 1024]',
  );
  num(b, 'best_of', n, (x) => x === n, 'other than n is not supported');
  const maxKey =
    b.max_completion_tokens !== undefined && b.max_completion_tokens !== null
      ? 'max_completion_tokens'
      : 'max_tokens';
  return {
    n,
    temperature: num(b, 'temperature', 1, (x) => x >= 0 && x <= 10, 'must be in [0, 10]'),
    topP: num(b, 'top_p', 1, (x) => x > 0 && x <= 1, 'must be in (0, 1]'),
    maxTokens: num(
      b,
      maxKey,
      dfltMaxTokens,
      (x) => Number.isInteger(x) && x >= 1,
      'must be a positive integer',
    ),
    seed: num(b, 'seed', Math.floor(Math.random() * 2 ** 31), Number.isInteger, 'must be an integer'),
    stop: parseStop(b),
    isStream: b.stream === true,
    isUsageStreamed: (b.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
  };
}

function checkPrompts(prompts: number[][], maxTokens: number, ctx: ParseContext): void {
  for (const ids of prompts) {
    if (ids.length === 0)
      throw new RequestError(`${BAD_COMPLETION_REQUEST}: a prompt encodes to no tokens`, 400, 'prompt');
    for (const id of ids)
      if (id < 0 || id >= ctx.tokenizer.vocabSize)
        throw new RequestError(
          `${BAD_COMPLETION_REQUEST}: token id ${id} is outside the vocabulary`,
          400,
          'prompt',
        );
    if (ctx.maxModelLen !== undefined && ids.length + maxTokens > ctx.maxModelLen)
      throw new RequestError(
        `${BAD_COMPLETION_REQUEST}: prompt (${ids.length} tokens) + max_tokens (${maxTokens}) exceeds the model's context of ${ctx.maxModelLen} tokens`,
        400,
        'max_tokens',
      );
  }
}

/** Prompt field of /v1/completions as raw items (strings or id lists), before any encoding. */
function rawPrompts(p: unknown): (string | number[])[] {
  if (typeof p === 'string') return [p];
  if (isIdList(p) && p.length > 0) return [p];
  if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string' || isIdList(x)))
    return p as (string | number[])[];
  throw new RequestError(
    `${BAD_COMPLETION_REQUEST}: prompt must be a string, a list of strings, or token ids`,
    400,
    'prompt',
  );
}

/** A /v1/completions body; the work limit is checked before any prompt is encoded. */
export function parseCompletionRequest(body: unknown, ctx: ParseContext): ParsedRequest {
  const b = asBody(body, ctx);
  const s = parseSampling(b, 16);
  const raw = rawPrompts(b.prompt);
  checkWork(raw.length, s.n, s.maxTokens, ctx.limits);
  const prompts = raw.map((x) => (typeof x === 'string' ? ctx.tokenizer.encode(x) : x));
  checkPrompts(prompts, s.maxTokens, ctx);
  const logprobs = b.logprobs !== undefined && b.logprobs !== null && b.logprobs !== false;
  const echoPromptText = b.echo ? prompts.map((ids) => ctx.tokenizer.decode(ids)) : null;
  return { ...s, prompts, logprobs, echoPromptText };
}

/** `content` as a string, or OpenAI's list of parts of which only text parts are served. */
function messageText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every((p) => p?.type === 'text' && typeof p.text === 'string'))
    return content.map((p) => p.text as string).join('');
  throw new RequestError(
    `${BAD_COMPLETION_REQUEST}: messages[${i}].content must be a string or a list of text parts`,
    400,
    'messages',
  );
}

function parseMessages(m: unknown): ChatMessage[] {
  if (!Array.isArray(m) || m.length === 0)
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: messages must be a non-empty list`, 400, 'messages');
  return m.map((x, i) => {
    if (typeof x?.role !== 'string')
      throw new RequestError(
        `${BAD_COMPLETION_REQUEST}: messages[${i}].role must be a string`,
        400,
        'messages',
      );
    return { role: x.role, content: messageText(x.content, i) };
  });
}

/**
 * A /v1/chat/completions body: the messages rendered with the model's chat template and a generation
 * prompt. Without max_tokens a chat request may use the rest of the context (as vLLM), else 16.
 */
export function parseChatRequest(body: unknown, ctx: ParseContext): ParsedRequest {
  const b = asBody(body, ctx);
  const messages = parseMessages(b.messages);
  let text: string;
  try {
    text = ctx.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  } catch (err) {
    throw new RequestError(`${BAD_COMPLETION_REQUEST}: ${(err as Error).message}`, 400, 'messages', {
      cause: err,
    });
  }
  const ids = ctx.tokenizer.encode(text);
  const s = parseSampling(b, ctx.maxModelLen !== undefined ? Math.max(1, ctx.maxModelLen - ids.length) : 16);
  checkWork(1, s.n, s.maxTokens, ctx.limits);
  checkPrompts([ids], s.maxTokens, ctx);
  const logprobs = b.logprobs === true;
  return { ...s, prompts: [ids], logprobs, echoPromptText: null };
}
