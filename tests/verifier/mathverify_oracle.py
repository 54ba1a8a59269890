"""Math-Verify's verdicts for the differential corpus (the reference grader, run in one batch).

    .venv/bin/python tests/verifier/mathverify_oracle.py IN.jsonl OUT.jsonl [--limit N]

IN: one {"id", "gold", "pred"} per line. OUT: one {"id", "mv": bool, "mv_gold": str, "mv_pred": str,
"seconds": float} per line, where mv_* are the strings Math-Verify extracted. Gold and prediction are
both read with math_verify.parse's default configuration (LaTeX + expressions), as its README shows.
"""
import json
import logging
import sys
import time

from math_verify import parse, verify

logging.disable(logging.WARNING)  # timeouts are recorded per pair, not logged


def extracted(parsed):
    return str(parsed[-1]) if parsed else ""


def main() -> None:
    args = sys.argv[1:]
    limit = None
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i : i + 2]
    src, dst = args
    with open(src, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if limit is not None:
        rows = rows[:limit]
    with open(dst, "w", encoding="utf-8") as out:
        for row in rows:
            t0 = time.perf_counter()
            gold = parse(row["gold"])
            pred = parse(row["pred"])
            ok = bool(verify(gold, pred))
            seconds = time.perf_counter() - t0
            out.write(json.dumps({"id": row["id"], "mv": ok, "mv_gold": extracted(gold), "mv_pred": extracted(pred), "seconds": round(seconds, 6)}) + "\n")


if __name__ == "__main__":
    main()
