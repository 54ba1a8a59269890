"""Builds the SmolLM2 (issue 17, item 3) data files from public copies fetched with the `fetch` tool.

Sources (read straight from the git objects of the fetched snapshots, so the commit is pinned):
  MATH (MIT): github aiwaves-cn/agents @ e8c4e3c2d19739d3dff59e577d1c97090cc15f59,
              src/agents/datasets/data/math/{train,test}/<subject>/<n>.json
  GSM8K / MATH500 test files (Qwen2.5-Math evaluation layout): github hkust-nlp/simpleRL-reason
              @ cf1c7858bfc145a27aa733e75d930d34f0d318a6, examples/simplelr_math_eval/data/{gsm8k,math500}/test.jsonl
Usage: python build_data.py MIRROR_ROOT OUT_DIR
Writes (answer = last \\boxed{} of the MATH solution, brace-matched):
  OUT/eval/gsm8k/test.jsonl, OUT/eval/math500/test.jsonl   first 16 lines of each public test file
  OUT/math-train-sample.jsonl    32 MATH train problems, levels 3-5 (CI GRPO; data/math-level3to5.jsonl format)
  OUT/bench/math-l12-train.jsonl  MATH train levels 1-2, problem <= 400 chars (RL prompts)
  OUT/bench/math-l12-sft.jsonl    {problem, response=solution} of the same problems (SFT warm-up)
  OUT/bench/math-l12-test/math500/test.jsonl  120 MATH test problems, levels 1-2, not in MATH500 (held-out)
"""

import json
import os
import random
import subprocess
import sys

AGENTS = ("aiwaves-cn+agents", "e8c4e3c2d19739d3dff59e577d1c97090cc15f59", "src/agents/datasets/data/math")
SIMPLERL = ("hkust-nlp+simpleRL-reason", "cf1c7858bfc145a27aa733e75d930d34f0d318a6", "examples/simplelr_math_eval/data")


def git(mirror: str, repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", os.path.join(mirror, repo, "repo"), *args], check=True,
                          capture_output=True, text=True).stdout


def last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed")
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j].strip()
    return None


def math_split(mirror: str, split: str) -> list[dict]:
    repo, commit, root = AGENTS
    paths = git(mirror, repo, "ls-tree", "-r", "--name-only", commit, f"{root}/{split}").split()
    rows = []
    for path in sorted(paths, key=lambda p: (p.split("/")[-2], int(p.split("/")[-1][:-5]))):
        rec = json.loads(git(mirror, repo, "show", f"{commit}:{path}"))
        answer = last_boxed(rec["solution"])
        if not answer:
            continue
        src = f"MATH/{split}/{path.split('/')[-2]}/{path.split('/')[-1]}"
        rows.append({"problem": rec["problem"], "answer": answer, "level": rec["level"],
                     "subject": rec["type"], "source": src, "solution": rec["solution"]})
    return rows


def write_jsonl(path: str, rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(mirror: str, out: str) -> None:
    repo, commit, root = SIMPLERL
    for name in ("gsm8k", "math500"):
        lines = git(mirror, repo, "show", f"{commit}:{root}/{name}/test.jsonl").splitlines()[:16]
        os.makedirs(f"{out}/eval/{name}", exist_ok=True)
        with open(f"{out}/eval/{name}/test.jsonl", "w") as f:
            f.write("\n".join(lines) + "\n")
    math500 = {json.loads(l)["problem"].strip() for l in
               git(mirror, repo, "show", f"{commit}:{root}/math500/test.jsonl").splitlines()}
    train, test = math_split(mirror, "train"), math_split(mirror, "test")
    public = lambda r: {k: r[k] for k in ("problem", "answer", "level", "subject", "source")}
    rng = random.Random(17)
    hard = [r for r in train if r["level"] in ("Level 3", "Level 4", "Level 5") and len(r["problem"]) <= 300]
    write_jsonl(f"{out}/math-train-sample.jsonl", [public(r) for r in rng.sample(hard, 32)])
    easy = [r for r in train if r["level"] in ("Level 1", "Level 2") and len(r["problem"]) <= 400]
    write_jsonl(f"{out}/bench/math-l12-train.jsonl", [public(r) for r in easy])
    write_jsonl(f"{out}/bench/math-l12-sft.jsonl",
                [{"problem": r["problem"], "response": r["solution"], "source": r["source"]} for r in easy
                 if len(r["solution"]) <= 800])
    held = [r for r in test if r["level"] in ("Level 1", "Level 2") and len(r["problem"]) <= 400
            and r["problem"].strip() not in math500]
    write_jsonl(f"{out}/bench/math-l12-test/math500/test.jsonl",
                [{"problem": r["problem"], "solution": r["solution"], "answer": r["answer"], "subject": r["subject"],
                  "level": int(r["level"].split()[-1]), "unique_id": r["source"]} for r in rng.sample(held, 120)])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
