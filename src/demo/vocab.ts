/**
 * The demo's tokenizer: every piece of the demo's text (problems, the four corpus styles, the prompt
 * template) and nothing else, 60 tokens. Digits are single tokens; operators carry their spaces
 * (' + ') and sentence ends carry theirs ('. '), so a 5-operand chain solved and rechecked fits in
 * ~90 tokens. The prompt ends with '\n' and no token spans it, so tokenising prompt and response
 * apart gives the same ids as tokenising them together.
 */
import { type BuiltTokenizer, buildTokenizerFiles } from '../tokenizer/build-tokenizer.ts';

export const DEMO_PROMPT_TEMPLATE = 'Question: {input}\nAnswer:\n';
export const DEMO_EOS = '<|endoftext|>';

export const DEMO_TOKENS: readonly string[] = [
  ...'0123456789',
  ' ',
  '\n',
  ...'.,:+-=/×x}',
  '. ',
  ': ',
  ' + ',
  ' - ',
  ' = ',
  ' / ',
  ' × ',
  '\\boxed{',
  ' \\boxed{',
  'Question',
  'Answer',
  'Compute',
  'Solve',
  'The',
  'Let',
  'Wait',
  'It',
  'So',
  'Hmm',
  ' answer',
  ' is',
  ' it',
  ' me',
  ' let',
  ' recheck',
  ' that',
  ' wrong',
  ' right',
  ' see',
];

export function demoTokenizerFiles(dir: string): Promise<BuiltTokenizer> {
  return buildTokenizerFiles(dir, {
    tokens: [...DEMO_TOKENS],
    specialTokens: [DEMO_EOS],
    eosToken: DEMO_EOS,
    modelMaxLength: 256,
  });
}

const BY_LENGTH = [...DEMO_TOKENS].sort((a, b) => b.length - a.length);

/**
 * Number of tokens of `text` under the demo tokenizer (greedy longest match, as its pre-tokenizer;
 * an unknown character counts one). For sizing corpus documents without loading the tokenizer.
 */
export function countDemoTokens(text: string): number {
  let count = 0;
  let i = 0;
  while (i < text.length) {
    const token = BY_LENGTH.find((t) => text.startsWith(t, i));
    i += token ? token.length : 1;
    count += 1;
  }
  return count;
}
