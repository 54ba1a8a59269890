import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes tiny Hugging Face tokenizers (`tokenizer.json` + `tokenizer_config.json`) that both our
 * `TextTokenizer` and Python `transformers` (`AutoTokenizer` / `PreTrainedTokenizerFast`) load with
 * identical ids. Used by the demo and every end-to-end test.
 *
 * The model is a BPE with no merges and `ignore_merges: true`, so every vocabulary entry maps to
 * itself (a word-level vocabulary that both implementations support; `WordLevel` is not in
 * tokenizers.js). A `Split` pre-tokenizer built from the vocabulary cuts text by greedy longest
 * match (an alternation of the escaped tokens, longest first), and any other character becomes its
 * own piece, i.e. one `<unk>`. Digits are always single tokens (a token with a digit must be one
 * character), and words carry their leading space: `' the'` is a token of its own. The `Fuse`
 * decoder concatenates tokens as they are, so `decode(encode(s)) === s` for text of vocabulary pieces.
 */

/** Error prefix of a bad tokenizer specification. */
export const BAD_TOKENIZER_SPEC = 'buildTokenizerFiles: bad tokenizer specification';

export interface TokenizerSpec {
  /** Ordinary vocabulary entries, literal strings (a leading space is part of the token). */
  tokens: string[];
  /** Special tokens (added tokens that never split and are skipped by `decode(..., {skipSpecialTokens})`). */
  specialTokens: string[];
  eosToken: string;
  bosToken?: string;
  /** Defaults to `eosToken` (as in Qwen2.5 base models, whose pad is `<|endoftext|>`). */
  padToken?: string;
  /** Added as a special token when absent; default `<unk>`. */
  unkToken?: string;
  /** A Jinja chat template stored in tokenizer_config.json. */
  chatTemplate?: string;
  modelMaxLength?: number;
}

export interface BuiltTokenizer {
  dir: string;
  vocabSize: number;
  /** token string → id, specials included. */
  vocab: Map<string, number>;
}

/** ChatML as in Qwen2.5 (without the tool branches): a system turn is added when none is given. */
export const CHATML_TEMPLATE =
  '{%- if messages[0].role != "system" %}{{- "<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n" }}{%- endif %}' +
  '{%- for message in messages %}{{- "<|im_start|>" + message.role + "\\n" + message.content + "<|im_end|>\\n" }}{%- endfor %}' +
  '{%- if add_generation_prompt %}{{- "<|im_start|>assistant\\n" }}{%- endif %}';

export const TINY_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

/**
 * A ready ~60-token vocabulary for synthetic arithmetic/maths tasks: digits, operators, LaTeX bits of
 * a boxed answer, and the English words of short solutions with self-verification.
 */
export const TINY_MATH_TOKENS: readonly string[] = [
  ...'0123456789',
  ' ',
  '\n',
  ...'+-*/=()^.,:<>%?',
  '\\boxed{',
  '{',
  '}',
  '\\frac',
  '\\cdot',
  '\\times',
  '\\sqrt',
  '$',
  'x',
  ' x',
  'Compute',
  'Solve',
  'Let',
  'Wait',
  'So',
  'The',
  ' the',
  ' answer',
  ' is',
  ' let',
  ' me',
  ' verify',
  ' check',
  ' that',
  ' wrong',
  ' so',
  ' we',
  ' get',
  ' and',
  ' of',
  ' first',
  ' again',
  // ChatML role names, so chat-formatted prompts of the tiny tokenizer have no <unk>.
  'system',
  'user',
  'assistant',
];

/** Spec of the default tiny maths tokenizer (ChatML specials, `<|endoftext|>` as eos and pad). */
export function tinyMathTokenizerSpec(overrides: Partial<TokenizerSpec> = {}): TokenizerSpec {
  return {
    tokens: [...TINY_MATH_TOKENS],
    specialTokens: [...TINY_SPECIAL_TOKENS],
    eosToken: '<|endoftext|>',
    chatTemplate: CHATML_TEMPLATE,
    modelMaxLength: 4096,
    ...overrides,
  };
}

const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

function escapeRegex(s: string): string {
  return s
    .replace(REGEX_SYNTAX, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t');
}

function validate(spec: TokenizerSpec): void {
  const fail = (msg: string): never => {
    throw new Error(`${BAD_TOKENIZER_SPEC}: ${msg}`);
  };
  if (!Array.isArray(spec.tokens) || spec.tokens.length === 0) fail('tokens must be a non-empty array');
  const seen = new Set<string>();
  spec.tokens.forEach((t, i) => {
    if (typeof t !== 'string' || t.length === 0) fail(`tokens[${i}] must be a non-empty string`);
    if (seen.has(t)) fail(`tokens[${i}] ${JSON.stringify(t)} is listed twice`);
    if (/\p{N}/u.test(t) && [...t].length > 1)
      fail(`tokens[${i}] ${JSON.stringify(t)}: a token with a digit must be that digit alone`);
    seen.add(t);
  });
  spec.specialTokens.forEach((t, i) => {
    if (typeof t !== 'string' || t.length === 0) fail(`specialTokens[${i}] must be a non-empty string`);
    if (seen.has(t)) fail(`specialTokens[${i}] ${JSON.stringify(t)} is listed twice (or also in tokens)`);
    seen.add(t);
  });
  for (const key of ['eosToken', 'bosToken', 'padToken'] as const) {
    const t = spec[key];
    if (t !== undefined && !spec.specialTokens.includes(t))
      fail(`${key} ${JSON.stringify(t)} must be one of specialTokens`);
  }
  if (
    spec.modelMaxLength !== undefined &&
    !(Number.isInteger(spec.modelMaxLength) && spec.modelMaxLength > 0)
  )
    fail(`modelMaxLength must be a positive integer, got ${spec.modelMaxLength}`);
}

/** The tokenizer.json object and vocabulary for a spec (no file I/O). */
export function buildTokenizerJson(spec: TokenizerSpec): {
  tokenizerJson: Record<string, unknown>;
  vocab: Map<string, number>;
  unkToken: string;
} {
  validate(spec);
  const unkToken = spec.unkToken ?? '<unk>';
  const specials = spec.specialTokens.includes(unkToken)
    ? spec.specialTokens
    : [...spec.specialTokens, unkToken];
  if (spec.tokens.includes(unkToken))
    throw new Error(
      `${BAD_TOKENIZER_SPEC}: unkToken ${JSON.stringify(unkToken)} must not be an ordinary token`,
    );
  // ids: special tokens first (so eos/pad ids are small and stable), then the ordinary tokens.
  const vocab = new Map<string, number>();
  for (const t of [...specials, ...spec.tokens]) vocab.set(t, vocab.size);
  // Longest first: a regex alternation takes the first branch that matches, so this is greedy
  // longest match. The final `[\s\S]` turns any other character into its own (unknown) piece.
  const ordered = [...spec.tokens].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const pattern = `${ordered.map(escapeRegex).join('|')}|[\\s\\S]`;
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({
      id: vocab.get(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unkToken,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab: Object.fromEntries(vocab),
      merges: [],
    },
  };
  return { tokenizerJson, vocab, unkToken };
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (created if needed). */
export async function buildTokenizerFiles(dir: string, spec: TokenizerSpec): Promise<BuiltTokenizer> {
  const { tokenizerJson, vocab, unkToken } = buildTokenizerJson(spec);
  const config: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    eos_token: spec.eosToken,
    pad_token: spec.padToken ?? spec.eosToken,
    unk_token: unkToken,
    bos_token: spec.bosToken ?? null,
    clean_up_tokenization_spaces: false,
    model_max_length: spec.modelMaxLength ?? 4096,
    additional_special_tokens: spec.specialTokens.filter(
      (t) => t !== spec.eosToken && t !== spec.bosToken && t !== (spec.padToken ?? spec.eosToken),
    ),
  };
  if (spec.chatTemplate !== undefined) config.chat_template = spec.chatTemplate;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizerJson, null, 2)}\n`);
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { dir, vocabSize: vocab.size, vocab };
}
