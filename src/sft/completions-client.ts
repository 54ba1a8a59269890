/**
 * The teacher client of `simplerl distill`: OpenAI's official `openai` package against any
 * OpenAI-compatible server, through /v1/completions or /v1/chat/completions. The package replaces a
 * hand-written fetch + retry loop: it already retries connection errors, 408/409/429 and 5xx with
 * jittered exponential back-off (honouring Retry-After), applies a timeout, and speaks both endpoints,
 * so p-retry (whose Node-20 line is 6.x) would only have re-wrapped what the client does itself.
 */
import OpenAI from 'openai';

export const COMPLETIONS_HTTP_ERROR = 'completions request failed';

/** Which endpoint the teacher is asked through; real teachers are usually chat models. */
export const TEACHER_APIS = ['completions', 'chat'] as const;
export type TeacherApi = (typeof TEACHER_APIS)[number];

export interface SamplingRequest {
  model: string;
  n: number;
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed?: number;
  stop?: string[];
}

export interface CompletionRequest extends SamplingRequest {
  prompt: string[];
}

export interface CompletionChoice {
  text: string;
  index: number;
  finish_reason: string | null;
}

export interface ClientOptions {
  apiKey?: string;
  /** Retries of a failed request (network error, 408/409/429, 5xx); default 2. */
  retries?: number;
  timeoutMs?: number;
}

/** `http://host:8000`, `.../v1`, `.../v1/completions` or `.../v1/chat/completions` → `.../v1`. */
export function teacherBaseUrl(teacher: string): string {
  const base = teacher.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base))
    throw new Error(`teacher URL must start with http:// or https://, got ${teacher}`);
  const root = base.replace(/\/(chat\/)?completions$/, '');
  return root.endsWith('/v1') ? root : `${root}/v1`;
}

/** The innermost error code of a network failure (ECONNREFUSED, ENOTFOUND, ...). */
function causeCode(err: unknown): { code?: string; message?: string } {
  let e = err as { cause?: unknown; code?: string; message?: string } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return { code: e?.code, message: e?.message };
}

/** Why a request could not be sent: the client's own message is only "Connection error.". */
export function fetchFailure(err: Error): string {
  const { code, message } = causeCode(err);
  if (code === 'ECONNREFUSED')
    return `${err.message}: connection refused (is the server running at that address?)`;
  if (code === 'ENOTFOUND') return `${err.message}: unknown host`;
  return message && message !== err.message ? `${err.message}: ${message}` : err.message;
}

/** A teacher endpoint: returns each request's choices sorted by index, checked to be complete. */
export class TeacherClient {
  private readonly client: OpenAI;
  readonly baseUrl: string;

  constructor(teacher: string, opts: ClientOptions = {}) {
    this.baseUrl = teacherBaseUrl(teacher);
    this.client = new OpenAI({
      baseURL: this.baseUrl,
      // Local servers take any key; the client refuses to start without one.
      apiKey: opts.apiKey ?? 'EMPTY',
      maxRetries: opts.retries ?? 2,
      timeout: opts.timeoutMs ?? 600_000,
    });
  }

  /** One /v1/completions request: prompt-major choices (prompt i sample j at i·n + j). */
  async complete(body: CompletionRequest): Promise<CompletionChoice[]> {
    const res = await this.send('completions', () => this.client.completions.create(body));
    return checkChoices(res.choices, body.prompt.length * body.n, `${this.baseUrl}/completions`);
  }

  /** One /v1/chat/completions request per prompt (one user turn each, seed + i), prompt-major choices. */
  async chat(prompts: string[], body: SamplingRequest): Promise<CompletionChoice[]> {
    const url = `${this.baseUrl}/chat/completions`;
    const answers = await Promise.all(
      prompts.map((content, i) =>
        this.send('chat/completions', () =>
          this.client.chat.completions.create({
            ...body,
            ...(body.seed !== undefined ? { seed: body.seed + i } : {}),
            messages: [{ role: 'user', content }],
          }),
        ),
      ),
    );
    return answers.flatMap((res, i) =>
      checkChoices(res.choices, body.n, url).map((c) => ({
        text: c.message.content ?? '',
        index: i * body.n + c.index,
        finish_reason: c.finish_reason,
      })),
    );
  }

  private async send<T>(path: string, call: () => Promise<T>): Promise<T> {
    const url = `${this.baseUrl}/${path}`;
    try {
      return await call();
    } catch (err) {
      if (err instanceof OpenAI.APIConnectionError)
        throw new Error(`${COMPLETIONS_HTTP_ERROR}: POST ${url}: ${fetchFailure(err)}`, { cause: err });
      if (err instanceof OpenAI.APIError)
        throw new Error(`${COMPLETIONS_HTTP_ERROR}: POST ${url}: HTTP ${err.status}: ${err.message}`, {
          cause: err,
        });
      throw err;
    }
  }
}

function checkChoices<C extends { index: number }>(
  choices: C[] | undefined,
  expected: number,
  url: string,
): C[] {
  if (!Array.isArray(choices) || choices.length !== expected)
    throw new Error(
      `${COMPLETIONS_HTTP_ERROR}: POST ${url}: expected ${expected} choices, got ${choices?.length}`,
    );
  return [...choices].sort((a, b) => a.index - b.index);
}
