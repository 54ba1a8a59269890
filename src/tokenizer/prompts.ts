import type { TextTokenizer } from './tokenizer.ts';

/** Error prefix of an unknown prompt template name. */
export const UNKNOWN_PROMPT_TEMPLATE = 'unknown prompt template';

/** The math instruction of the original work (Qwen2.5-Math evaluation harness). */
export const MATH_INSTRUCTION = 'Please reason step by step, and put your final answer within \\boxed{}.';

/**
 * Named prompt templates; `{input}` is replaced by the problem text. Sources: docs/recipe.md
 * (hkust-nlp/simpleRL-reason v0 `qwen25-math-cot`, v1 `qwen-boxed` and `abel`). `chat` is not a
 * string: it renders the tokenizer's own chat template with one user turn, `{input}\n` + the
 * instruction, and the generation prompt.
 */
export const PROMPT_TEMPLATES = {
  'qwen25-math-cot': `<|im_start|>system\n${MATH_INSTRUCTION}<|im_end|>\n<|im_start|>user\n{input}<|im_end|>\n<|im_start|>assistant\n`,
  'qwen-boxed': `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n{input}\n${MATH_INSTRUCTION}<|im_end|>\n<|im_start|>assistant\n`,
  abel: "Question:\n{input}\nAnswer:\nLet's think step by step.\n",
  plain: '{input}',
  chat: null,
} as const satisfies Record<string, string | null>;

export type PromptTemplateName = keyof typeof PROMPT_TEMPLATES;

export const PROMPT_TEMPLATE_NAMES = Object.keys(PROMPT_TEMPLATES) as PromptTemplateName[];

/** Throws unless `template` is a known name or a custom string containing `{input}`. */
export function checkPromptTemplate(template: string): void {
  if (Object.hasOwn(PROMPT_TEMPLATES, template) || template.includes('{input}')) return;
  throw new Error(
    `${UNKNOWN_PROMPT_TEMPLATE} ${JSON.stringify(template)}: valid names are ${PROMPT_TEMPLATE_NAMES.join(', ')}, ` +
      'or give a custom template string containing {input}',
  );
}

/**
 * The prompt text for one problem. `template` is a name of PROMPT_TEMPLATES or a custom string with
 * `{input}` (every occurrence is replaced). `chat` needs the tokenizer.
 */
export function renderPrompt(template: string, problem: string, tok?: TextTokenizer): string {
  checkPromptTemplate(template);
  if (template === 'chat') {
    if (!tok)
      throw new Error('renderPrompt: the "chat" template needs a tokenizer (its chat template is used)');
    return tok.applyChatTemplate([{ role: 'user', content: `${problem}\n${MATH_INSTRUCTION}` }], {
      addGenerationPrompt: true,
    });
  }
  const source = Object.hasOwn(PROMPT_TEMPLATES, template)
    ? (PROMPT_TEMPLATES[template as PromptTemplateName] as string)
    : template;
  return source.split('{input}').join(problem);
}
