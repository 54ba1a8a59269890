import { readUtf8Strict } from '../data/utf8.ts';
import { renderPrompt } from '../tokenizer/prompts.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';

/** Error prefix of a malformed SFT data line (continues `FILE:LINE: ...`). */
export const BAD_SFT_LINE = 'bad SFT record';

/** One tokenised SFT example: the loss covers the response tokens only. */
export interface SftExample {
  promptIds: number[];
  /** Response tokens, ended by the end token. */
  responseIds: number[];
}

export interface SftDataReport {
  examples: SftExample[];
  numRecords: number;
  /** Dropped because prompt + response is longer than maxTokens. */
  numTooLong: number;
}

/**
 * The token that ends a response: `<|im_end|>` when the prompt is ChatML (the chat turn closes with
 * it), else the tokenizer's eos.
 */
export function endTokenId(tok: TextTokenizer, prompt: string): number {
  const imEnd = tok.tokenToId('<|im_end|>');
  if (imEnd !== undefined && prompt.includes('<|im_start|>assistant')) return imEnd;
  return tok.eosTokenIds[0];
}

/**
 * Reads SFT JSONL: `{prompt, response}` (as written by distill) or `{problem, response}` (the prompt
 * is then rendered with `promptTemplate`). Other fields are ignored.
 */
export async function loadSftData(
  path: string,
  tok: TextTokenizer,
  opts: { promptTemplate?: string; maxTokens?: number } = {},
): Promise<SftDataReport> {
  const text = await readUtf8Strict(path, BAD_SFT_LINE);
  const lines = text.split('\n');
  const report: SftDataReport = { examples: [], numRecords: 0, numTooLong: 0 };
  const maxTokens = opts.maxTokens ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${BAD_SFT_LINE}: ${path}:${i + 1}`;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${where}: invalid JSON: ${(err as Error).message}`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
      throw new Error(`${where}: expected a JSON object`);
    report.numRecords++;
    if (typeof rec.response !== 'string' || rec.response === '')
      throw new Error(`${where}: field "response" must be a non-empty string`);
    let prompt: string;
    if (typeof rec.prompt === 'string') prompt = rec.prompt;
    else if (typeof rec.problem === 'string')
      prompt = renderPrompt(opts.promptTemplate ?? 'qwen25-math-cot', rec.problem, tok);
    else
      throw new Error(
        `${where}: needs a string field "prompt" (or "problem" to render with the prompt template)`,
      );
    const promptIds = tok.encode(prompt);
    const responseIds = [...tok.encode(rec.response), endTokenId(tok, prompt)];
    if (promptIds.length === 0) throw new Error(`${where}: the prompt encodes to no tokens`);
    if (promptIds.length + responseIds.length > maxTokens) {
      report.numTooLong++;
      continue;
    }
    report.examples.push({ promptIds, responseIds });
  }
  if (report.examples.length === 0)
    throw new Error(
      `${path}: no SFT examples (${report.numRecords} records, ${report.numTooLong} longer than ${maxTokens} tokens)`,
    );
  return report;
}
