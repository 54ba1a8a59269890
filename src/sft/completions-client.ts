/** A minimal client of an OpenAI-compatible `/v1/completions` endpoint (plain fetch). */

export const COMPLETIONS_HTTP_ERROR = 'completions request failed';

export interface CompletionRequest {
  model: string;
  prompt: string[];
  n: number;
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed?: number;
  stop?: string[];
}

export interface CompletionChoice {
  text: string;
  index: number;
  finish_reason: string | null;
}

export interface CompletionResponse {
  choices: CompletionChoice[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** `http://host:8000`, `.../v1` or `.../v1/completions` → the completions URL. */
export function completionsUrl(teacher: string): string {
  const base = teacher.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base))
    throw new Error(`teacher URL must start with http:// or https://, got ${teacher}`);
  if (base.endsWith('/completions')) return base;
  if (base.endsWith('/v1')) return `${base}/completions`;
  return `${base}/v1/completions`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fetch's own message is only "fetch failed"; the reason (refused, unknown host, ...) is in its cause. */
export function fetchFailure(err: Error): string {
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  if (code === 'ECONNREFUSED')
    return `${err.message}: connection refused (is the server running at that address?)`;
  if (code === 'ENOTFOUND') return `${err.message}: unknown host`;
  return cause?.message ? `${err.message}: ${cause.message}` : err.message;
}

/**
 * POSTs one completions request; retries network errors and 429/5xx answers (`retries` times, with
 * a doubling back-off). Returns the choices sorted by index, checked to be complete.
 */
export async function postCompletions(
  url: string,
  body: CompletionRequest,
  opts: { apiKey?: string; retries?: number; timeoutMs?: number } = {},
): Promise<CompletionResponse> {
  const retries = opts.retries ?? 2;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(500 * 2 ** (attempt - 1));
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000),
      });
    } catch (err) {
      lastError = new Error(`${COMPLETIONS_HTTP_ERROR}: POST ${url}: ${fetchFailure(err as Error)}`);
      continue;
    }
    const text = await res.text();
    if (!res.ok) {
      lastError = new Error(
        `${COMPLETIONS_HTTP_ERROR}: POST ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`,
      );
      if (res.status === 429 || res.status >= 500) continue;
      throw lastError;
    }
    let parsed: CompletionResponse;
    try {
      parsed = JSON.parse(text) as CompletionResponse;
    } catch {
      throw new Error(
        `${COMPLETIONS_HTTP_ERROR}: POST ${url}: the answer is not JSON: ${text.slice(0, 200)}`,
      );
    }
    const expected = body.prompt.length * body.n;
    if (!Array.isArray(parsed.choices) || parsed.choices.length !== expected)
      throw new Error(
        `${COMPLETIONS_HTTP_ERROR}: POST ${url}: expected ${expected} choices (${body.prompt.length} prompts × n ${body.n}), got ${parsed.choices?.length}`,
      );
    parsed.choices.sort((a, b) => a.index - b.index);
    return parsed;
  }
  throw lastError as Error;
}
