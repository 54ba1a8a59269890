// Problems → token ids of their rendered prompts, with prompts over the length limit dropped (counted).
import { loadProblemsReport, type Problem } from '../data/problems.ts';
import { renderPrompt } from '../tokenizer/prompts.ts';
import type { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { fingerprint } from './seeds.ts';

export interface PromptItem extends Problem {
  prompt: string;
  ids: Int32Array;
}

export interface PromptSet {
  items: PromptItem[];
  numTooLong: number;
  numDuplicates: number;
  numFiltered: number;
  /** Hash of the ids and prompts in order: a resume refuses a data set that changed. */
  fingerprint: string;
}

export interface PromptSetOptions {
  template: string;
  maxPromptTokens: number;
  fields?: { problem?: string | null; answer?: string | null; solution?: string | null; id?: string | null };
  levels?: number[] | null;
  subjects?: string[] | null;
  dedup?: boolean;
  limit?: number | null;
}

export async function loadPromptSet(
  path: string,
  tok: TextTokenizer,
  opts: PromptSetOptions,
): Promise<PromptSet> {
  const fields = Object.fromEntries(
    Object.entries(opts.fields ?? {}).filter(([, v]) => v !== null && v !== undefined),
  );
  const report = await loadProblemsReport(path, {
    fields,
    ...(opts.levels ? { levels: opts.levels } : {}),
    ...(opts.subjects ? { subjects: opts.subjects } : {}),
    dedup: opts.dedup ?? true,
  });
  const items: PromptItem[] = [];
  let numTooLong = 0;
  for (const p of report.problems) {
    if (opts.limit != null && items.length >= opts.limit) break;
    const prompt = renderPrompt(opts.template, p.problem, tok);
    const ids = Int32Array.from(tok.encode(prompt));
    if (ids.length > opts.maxPromptTokens) {
      numTooLong++;
      continue;
    }
    items.push({ ...p, prompt, ids });
  }
  if (items.length === 0) {
    throw new Error(
      `${path}: no usable problems (${report.problems.length} loaded, ${numTooLong} longer than ` +
        `rollout.max_prompt_tokens=${opts.maxPromptTokens}, ${report.numFiltered} filtered by level/subject)`,
    );
  }
  const fp = fingerprint(
    items.map((it) => `${it.id}\u0000${it.answer}\u0000${Array.from(it.ids).join(',')}`).join('\n'),
  );
  return {
    items,
    numTooLong,
    numDuplicates: report.numDuplicates,
    numFiltered: report.numFiltered,
    fingerprint: fp,
  };
}

/** The start-of-run line about the training prompts: how many, and how many were dropped and why (a user
 * who counts the lines of the file can tell duplicates, filters and over-long prompts apart). */
export function describePromptSet(path: string, set: PromptSet, maxPromptTokens: number): string {
  const dropped = [
    set.numDuplicates > 0 ? `${set.numDuplicates} duplicates` : '',
    set.numFiltered > 0 ? `${set.numFiltered} filtered by data.levels / data.subjects` : '',
    set.numTooLong > 0 ? `${set.numTooLong} longer than ${maxPromptTokens} tokens` : '',
  ].filter((s) => s !== '');
  return `simplerl: ${set.items.length} training prompts from ${path}${dropped.length > 0 ? ` (dropped: ${dropped.join(', ')})` : ''}`;
}
