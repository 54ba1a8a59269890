// A real pretrained model end to end: SmolLM2-135M-Instruct (Llama architecture, ChatML template), made
// by scripts/setup-fixtures-smollm2.sh (scripts/test.sh runs it first). Our tokenizer against transformers
// on real MATH/GSM8K text, `simplerl eval`'s greedy responses against transformers' `generate` on the same
// chat-template prompts, and a short GRPO run whose checkpoint transformers loads and generates with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadBenchmarks } from '../src/eval/run-eval.ts';
import { findLatestCheckpoint, readMetrics } from '../src/run/index.ts';
import { MATH_INSTRUCTION, renderPrompt } from '../src/tokenizer/prompts.ts';
import { TextTokenizer } from '../src/tokenizer/tokenizer.ts';
import { venvPython } from './fixtures/tiny-model.ts';
import { REPO_ROOT, runCli } from './fixtures/train-setup.ts';

const CACHE = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
const MODEL =
  process.env.SIMPLERL_SMOLLM2_DIR || join(CACHE, 'simplerl', 'fixtures', 'smollm2-135m-instruct');
const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'smollm2');
const SKIP = existsSync(join(MODEL, 'model.safetensors'))
  ? false
  : `no SmolLM2 fixture at ${MODEL}: run scripts/setup-fixtures-smollm2.sh (scripts/test.sh does)`;
const EVAL_LIMIT = 8;
const EVAL_TOKENS = 96;

/** Runs a Python snippet with the project's .venv and parses the JSON it prints. */
function runPython<T>(code: string, args: string[]): T {
  const r = spawnSync(venvPython(), ['-c', code, ...args], { encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every problem, solution and answer text of the fixtures (GSM8K, MATH500, MATH train sample). */
function fixtureTexts(): string[] {
  const rows = [
    ...readJsonl(join(FIXTURES, 'eval', 'gsm8k', 'test.jsonl')),
    ...readJsonl(join(FIXTURES, 'eval', 'math500', 'test.jsonl')),
    ...readJsonl(join(FIXTURES, 'math-train-sample.jsonl')),
  ];
  const fields = ['question', 'problem', 'solution', 'answer'];
  return rows.flatMap((r) => fields.map((f) => r[f]).filter((v): v is string => typeof v === 'string'));
}

const HF_TOKENIZE = `
import json, sys
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1])
texts = json.loads(open(sys.argv[2]).read())
chats = [[{"role": "user", "content": t}] for t in texts[:8]]
print(json.dumps({"ids": [tok.encode(t, add_special_tokens=False) for t in texts],
                  "decoded": [tok.decode(tok.encode(t, add_special_tokens=False)) for t in texts],
                  "chat": [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in chats]}))
`;

/** Greedy responses of transformers on the eval problems, prompts rendered by its apply_chat_template. */
const HF_GREEDY = `
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
torch.set_num_threads(1)
path, problems, instruction, max_new = sys.argv[1], json.loads(open(sys.argv[2]).read()), sys.argv[3], int(sys.argv[4])
tok = AutoTokenizer.from_pretrained(path)
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
prompts = [tok.apply_chat_template([{"role": "user", "content": p + "\\n" + instruction}], tokenize=False, add_generation_prompt=True) for p in problems]
ids = [tok.encode(p, add_special_tokens=False) for p in prompts]
T = max(map(len, ids))
x = torch.tensor([[2] * (T - len(r)) + r for r in ids])
mask = torch.tensor([[0] * (T - len(r)) + [1] * len(r) for r in ids])
with torch.no_grad():
    out = model.generate(input_ids=x, attention_mask=mask, do_sample=False, max_new_tokens=max_new, eos_token_id=[2, 0], pad_token_id=2)
responses = []
for row in out[:, T:].tolist():
    cut = next((i for i, t in enumerate(row) if t in (0, 2)), None)
    responses.append(tok.decode(row if cut is None else row[:cut]))
print(json.dumps({"prompts": prompts, "responses": responses}))
`;

const HF_LOAD_GENERATE = `
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from safetensors.torch import load_file
ckpt, base = sys.argv[1], sys.argv[2]
model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32).eval()
tok = AutoTokenizer.from_pretrained(ckpt)
ids = tok.apply_chat_template([{"role": "user", "content": "What is 2 + 3?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True)
with torch.no_grad():
    out = model.generate(**ids, do_sample=False, max_new_tokens=16, pad_token_id=2)
a, b = load_file(ckpt + "/model.safetensors"), load_file(base + "/model.safetensors")
changed = max((a[k].float() - b[k].float()).abs().max().item() for k in b)
print(json.dumps({"arch": type(model).__name__, "text": tok.decode(out[0, ids["input_ids"].shape[1]:]), "max_weight_change": changed}))
`;

// The eval and the GRPO run are independent and mostly wait on their own engine processes: run side by side.
describe('a real pretrained model: SmolLM2-135M-Instruct', { skip: SKIP, concurrency: true }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-smollm2-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('our tokenizer gives transformers ids, decodes and chat template on the fixture texts', async () => {
    const tok = await TextTokenizer.fromDir(MODEL);
    const texts = fixtureTexts();
    const file = join(dir, 'texts.json');
    writeFileSync(file, JSON.stringify(texts));
    const hf = runPython<{ ids: number[][]; decoded: string[]; chat: string[] }>(HF_TOKENIZE, [MODEL, file]);
    texts.forEach((t, i) => {
      assert.deepEqual(tok.encode(t), hf.ids[i], `text ${i}: ${t.slice(0, 60)}`);
      assert.equal(tok.decode(tok.encode(t)), hf.decoded[i]);
    });
    texts.slice(0, 8).forEach((t, i) => {
      assert.equal(
        tok.applyChatTemplate([{ role: 'user', content: t }], { addGenerationPrompt: true }),
        hf.chat[i],
      );
    });
    console.log(`SmolLM2 tokenizer: ${texts.length} texts, ids identical to transformers`);
  });

  test('simplerl eval on GSM8K and MATH500 subsets: greedy responses equal transformers greedy', async () => {
    const out = join(dir, 'eval');
    const args = [
      'eval',
      '--model',
      MODEL,
      '--benchmarks',
      'gsm8k,math500',
      '--data',
      join(FIXTURES, 'eval'),
    ];
    const flags = ['--limit', `${EVAL_LIMIT}`, '--prompt-template', 'chat', '--max-tokens', `${EVAL_TOKENS}`];
    const r = await runCli([...args, ...flags, '--threads', '1', '--device', 'cpu', '--out', out], {
      timeoutMs: 1_800_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = readJsonl(join(out, 'responses.jsonl'));
    assert.equal(lines.length, 2 * EVAL_LIMIT);
    const benchmarks = await loadBenchmarks({
      benchmarks: ['gsm8k', 'math500'],
      dataDir: join(FIXTURES, 'eval'),
      limit: EVAL_LIMIT,
    });
    const byKey = new Map(benchmarks.flatMap((b) => b.problems.map((p) => [`${b.name}/${p.id}`, p.problem])));
    const problems = lines.map((l) => byKey.get(`${l.benchmark}/${l.id}`));
    assert.ok(
      problems.every((p) => typeof p === 'string' && p.length > 20),
      'every response matches a fixture problem',
    );
    const file = join(dir, 'problems.json');
    writeFileSync(file, JSON.stringify(problems));
    const hf = runPython<{ prompts: string[]; responses: string[] }>(HF_GREEDY, [
      MODEL,
      file,
      MATH_INSTRUCTION,
      `${EVAL_TOKENS}`,
    ]);
    const tok = await TextTokenizer.fromDir(MODEL);
    problems.forEach((p, i) => {
      assert.equal(renderPrompt('chat', p as string, tok), hf.prompts[i], `prompt ${i}`);
    });
    const same = lines.filter((l, i) => l.response === hf.responses[i]).length;
    console.log(`SmolLM2 eval: ${same}/${lines.length} greedy responses identical to transformers`);
    lines.forEach((l, i) => {
      assert.equal(l.response, hf.responses[i], `response ${i} (${l.benchmark})`);
    });
  });

  test('a short GRPO run on the shipped MATH set with the chat template: the checkpoint loads in transformers and generates', async () => {
    const runDir = join(dir, 'runs');
    const sets = [
      `model.path=${MODEL}`,
      `run.dir=${runDir}`,
      'run.max_steps=2',
      'run.progress=false',
      'algo.prompts_per_step=2',
      'algo.mini_batch_size=2',
      'algo.n_samples=2',
      'rollout.max_new_tokens=48',
      'reward.rules.truncated=-1',
      'reward.threads=1',
    ];
    const r = await runCli(
      ['train', 'configs/smollm2-zero.yaml', '--name', 'grpo', ...sets.flatMap((s) => ['--set', s])],
      {
        timeoutMs: 1_800_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const metrics = readMetrics(join(runDir, 'grpo', 'metrics.jsonl')).rows;
    assert.equal(metrics.length, 2);
    for (const m of metrics)
      assert.ok(Number.isFinite(m['actor/pg_loss']) && Number.isFinite(m['reward/mean']));
    const ckpt = findLatestCheckpoint(join(runDir, 'grpo'));
    assert.ok(ckpt);
    const rollouts = readFileSync(join(runDir, 'grpo', 'rollouts', 'step-000001.jsonl'), 'utf8');
    // the chat template travels with the checkpoint (SmolLM2 keeps it in chat_template.jinja)
    assert.ok(existsSync(join(ckpt.dir, 'policy', 'chat_template.jinja')));
    assert.match(rollouts, /<\|im_start\|>system\\nYou are a helpful AI assistant named SmolLM/);
    const hf = runPython<{ arch: string; text: string; max_weight_change: number }>(HF_LOAD_GENERATE, [
      join(ckpt.dir, 'policy'),
      MODEL,
    ]);
    assert.equal(hf.arch, 'LlamaForCausalLM');
    assert.ok(hf.text.trim().length > 0, hf.text);
    console.log(
      `SmolLM2 GRPO: rewards ${metrics.map((m) => m['reward/mean']).join(', ')}; max weight change ${hf.max_weight_change}`,
    );
  });
});
