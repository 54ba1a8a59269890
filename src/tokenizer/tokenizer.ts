import { copyFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';

/** Error prefixes (tests match them). */
export const TOKENIZER_LOAD_ERROR = 'cannot load tokenizer';
export const CHAT_TEMPLATE_ERROR = 'chat template';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface FlatIds {
  /** All token ids back to back. */
  ids: Int32Array;
  /** Length B + 1; sequence b is ids[offsets[b]:offsets[b+1]]. */
  offsets: Int32Array;
}

type JsonObject = Record<string, unknown>;

/**
 * Files of a Hugging Face folder that belong to its tokenizer and generation settings: a trained
 * checkpoint gets them from its base, so that transformers / vLLM load it as it is (transformers 5
 * keeps the chat template in chat_template.jinja; Qwen2.5-Instruct's stop ids are in
 * generation_config.json).
 */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  'generation_config.json',
] as const;

/** Copies those of TOKENIZER_FILES that `fromDir` has into `toDir`. */
export function copyTokenizerFiles(fromDir: string, toDir: string): void {
  for (const f of TOKENIZER_FILES)
    if (existsSync(join(fromDir, f))) copyFileSync(join(fromDir, f), join(toDir, f));
}

async function readJson(path: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${TOKENIZER_LOAD_ERROR}: ${path}: ${(err as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('not a JSON object');
    return value as JsonObject;
  } catch (err) {
    throw new Error(`${TOKENIZER_LOAD_ERROR}: ${path}: ${(err as Error).message}`);
  }
}

/** tokenizer_config.json stores special tokens as strings or as AddedToken maps `{content, ...}`. */
function tokenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as JsonObject).content === 'string')
    return (value as JsonObject).content as string;
  return undefined;
}

/**
 * A Hugging Face tokenizer folder (`tokenizer.json` + `tokenizer_config.json`, optionally
 * `chat_template.jinja` and `generation_config.json`) loaded with tokenizers.js; chat templates are
 * rendered with @huggingface/jinja.
 */
export class TextTokenizer {
  readonly eosTokenIds: number[];
  readonly padTokenId: number;
  readonly bosTokenId: number | undefined;
  readonly vocabSize: number;
  readonly eosToken: string;
  readonly bosToken: string | undefined;
  readonly chatTemplate: string | undefined;
  private readonly template: Template | undefined;
  private readonly specialIds: Set<number>;

  private constructor(
    private readonly tok: Tokenizer,
    readonly dir: string,
    config: JsonObject,
    chatTemplate: { source: string; file: string } | undefined,
    generationEos: number[],
  ) {
    const configPath = join(dir, 'tokenizer_config.json');
    const eos = tokenString(config.eos_token);
    if (eos === undefined) throw new Error(`${TOKENIZER_LOAD_ERROR}: ${configPath}: eos_token is missing`);
    const eosId = tok.token_to_id(eos);
    if (eosId === undefined)
      throw new Error(
        `${TOKENIZER_LOAD_ERROR}: ${configPath}: eos_token ${JSON.stringify(eos)} is not in the vocabulary`,
      );
    this.eosToken = eos;
    this.eosTokenIds = [eosId, ...generationEos.filter((id) => id !== eosId)];
    const pad = tokenString(config.pad_token);
    const padId = pad === undefined ? undefined : tok.token_to_id(pad);
    if (pad !== undefined && padId === undefined)
      throw new Error(
        `${TOKENIZER_LOAD_ERROR}: ${configPath}: pad_token ${JSON.stringify(pad)} is not in the vocabulary`,
      );
    this.padTokenId = padId ?? eosId;
    this.bosToken = tokenString(config.bos_token);
    this.bosTokenId = this.bosToken === undefined ? undefined : tok.token_to_id(this.bosToken);
    let maxId = -1;
    for (const id of tok.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    this.specialIds = new Set(
      [...tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id),
    );
    this.chatTemplate = chatTemplate?.source;
    if (chatTemplate) {
      try {
        this.template = new Template(chatTemplate.source);
      } catch (err) {
        throw new Error(`${CHAT_TEMPLATE_ERROR}: ${chatTemplate.file}: ${(err as Error).message}`);
      }
    }
    this.templateFile = chatTemplate?.file;
  }

  private readonly templateFile: string | undefined;

  static async fromDir(dir: string): Promise<TextTokenizer> {
    const tokenizerJson = await readJson(join(dir, 'tokenizer.json'));
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? await readJson(configPath) : {};
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(tokenizerJson, config);
    } catch (err) {
      throw new Error(`${TOKENIZER_LOAD_ERROR}: ${join(dir, 'tokenizer.json')}: ${(err as Error).message}`);
    }
    // transformers >= 4.43 may save the template as chat_template.jinja; it wins over the config field.
    let chatTemplate: { source: string; file: string } | undefined;
    const jinjaPath = join(dir, 'chat_template.jinja');
    if (existsSync(jinjaPath)) chatTemplate = { source: await readFile(jinjaPath, 'utf8'), file: jinjaPath };
    else if (typeof config.chat_template === 'string')
      chatTemplate = { source: config.chat_template, file: configPath };
    else if (Array.isArray(config.chat_template)) {
      const named = (config.chat_template as { name?: string; template?: string }[]).find(
        (t) => t.name === 'default',
      );
      if (named?.template) chatTemplate = { source: named.template, file: configPath };
    }
    // Instruct checkpoints list several stop ids in generation_config.json (Qwen2.5: 151645, 151643).
    const generationEos: number[] = [];
    const genPath = join(dir, 'generation_config.json');
    if (existsSync(genPath)) {
      const eos = (await readJson(genPath)).eos_token_id;
      for (const id of Array.isArray(eos) ? eos : [eos])
        if (Number.isInteger(id)) generationEos.push(id as number);
    }
    return new TextTokenizer(tok, dir, config, chatTemplate, generationEos);
  }

  /** Token ids of `text`. Special-token strings in the text map to their ids; nothing is added around it. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  /** Encodes many texts into one flat ragged batch (the engine's `ids` + `offsets`). */
  encodeBatch(texts: string[]): FlatIds {
    const parts = texts.map((t) => this.encode(t));
    const offsets = new Int32Array(parts.length + 1);
    for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].length;
    const ids = new Int32Array(offsets[parts.length]);
    for (let i = 0; i < parts.length; i++) ids.set(parts[i], offsets[i]);
    return { ids, offsets };
  }

  /**
   * Text of `ids`. Ids without a token (a model's embedding is often padded beyond the tokenizer's
   * vocabulary, and an untrained model samples them) are skipped, as the Rust tokenizers library does.
   * Never "cleans up tokenization spaces": tokenizers.js would by default (and Llama-3's config asks for
   * it), turning `$x$ ?` into `$x$?`; the Rust library, vLLM and transformers 5 (for BPE) keep the text.
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    const list = Array.from(ids).filter((id) => this.tok.id_to_token(id) !== undefined);
    if (list.length === 0) return '';
    return this.tok.decode(list, {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Renders the tokenizer's own chat template (as `apply_chat_template(..., tokenize=False)`). */
  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template)
      throw new Error(
        `${CHAT_TEMPLATE_ERROR}: ${join(this.dir, 'tokenizer_config.json')} has no chat_template (and there is no chat_template.jinja)`,
      );
    try {
      return this.template.render({
        messages,
        add_generation_prompt: opts.addGenerationPrompt ?? false,
        bos_token: this.bosToken ?? '',
        eos_token: this.eosToken,
      });
    } catch (err) {
      throw new Error(`${CHAT_TEMPLATE_ERROR}: ${this.templateFile}: ${(err as Error).message}`);
    }
  }
}
