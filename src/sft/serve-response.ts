// OpenAI-shaped answers of the completions server: choices, whole responses and streamed chunks.
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { PromptResult } from './generate-batcher.ts';
import type { ParsedRequest } from './serve-request.ts';

export type Endpoint = 'completion' | 'chat';

/** One generated sample as text: stop token dropped, text cut at the first stop string. */
export interface DecodedSample {
  text: string;
  finishReason: 'stop' | 'length';
  ids: Int32Array;
  logprobs: Float32Array;
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

export function decodeSample(
  tok: TextTokenizer,
  r: PromptResult,
  j: number,
  stopIds: Set<number>,
  stop: string[],
): DecodedSample {
  let ids = r.ids.subarray(r.offsets[j], r.offsets[j + 1]);
  const isStopped = r.finish[j] === 'stop';
  // The stop token itself is not part of the text (as OpenAI / vLLM).
  if (isStopped && ids.length > 0 && stopIds.has(ids[ids.length - 1])) ids = ids.subarray(0, ids.length - 1);
  const [text, isCut] = cutAtStop(tok.decode(ids, { skipSpecialTokens: true }), stop);
  const logprobs = r.logprobs.subarray(r.offsets[j], r.offsets[j] + ids.length);
  return { text, finishReason: isStopped || isCut ? 'stop' : 'length', ids, logprobs };
}

function completionLogprobs(tok: TextTokenizer, s: DecodedSample) {
  return {
    tokens: [...s.ids].map((id) => tok.idToToken(id) ?? ''),
    token_logprobs: [...s.logprobs],
    top_logprobs: null,
    text_offset: null,
  };
}

function chatLogprobs(tok: TextTokenizer, s: DecodedSample) {
  return {
    content: [...s.ids].map((id, i) => {
      const token = tok.decode([id]);
      return { token, logprob: s.logprobs[i], bytes: [...Buffer.from(token)], top_logprobs: [] };
    }),
  };
}

/** The choice object of sample `s` with index `k` (prompt `promptIndex`). */
export function choiceOf(
  endpoint: Endpoint,
  tok: TextTokenizer,
  req: ParsedRequest,
  s: DecodedSample,
  k: number,
  promptIndex: number,
) {
  if (endpoint === 'chat')
    return {
      index: k,
      message: { role: 'assistant', content: s.text },
      logprobs: req.logprobs ? chatLogprobs(tok, s) : null,
      finish_reason: s.finishReason,
    };
  const prefix = req.echoPromptText ? req.echoPromptText[promptIndex] : '';
  return {
    index: k,
    text: prefix + s.text,
    logprobs: req.logprobs ? completionLogprobs(tok, s) : null,
    finish_reason: s.finishReason,
  };
}

/** The streamed chunks of one finished choice (chat: role, content, then the finish reason). */
export function chunkChoices(choice: ReturnType<typeof choiceOf>): Record<string, unknown>[] {
  if (choice.message === undefined) return [choice];
  const base = { index: choice.index, logprobs: null };
  return [
    { ...base, delta: { role: 'assistant', content: '' }, finish_reason: null },
    { ...base, delta: { content: choice.message.content }, logprobs: choice.logprobs, finish_reason: null },
    { ...base, delta: {}, finish_reason: choice.finish_reason },
  ];
}

export function usageOf(req: ParsedRequest, numCompletionTokens: number) {
  const numPromptTokens = req.prompts.reduce((a, p) => a + p.length, 0);
  return {
    prompt_tokens: numPromptTokens,
    completion_tokens: numCompletionTokens,
    total_tokens: numPromptTokens + numCompletionTokens,
  };
}

/** The fields every response and chunk of one request shares. */
export function envelope(endpoint: Endpoint, modelName: string, isChunk: boolean) {
  const rand = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const object =
    endpoint === 'chat' ? (isChunk ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';
  return {
    id: `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${rand}`,
    object,
    created: Math.floor(Date.now() / 1000),
    model: modelName,
  };
}
