"""Weights & Biases tracker sidecar of simplerl (there is no official W&B Node SDK for metrics).

Reads JSON lines on stdin: first {"project", "name", "dir", "mode", "config"} for wandb.init, then one
metrics row per line ({"step": int, "time": str, <key>: number, ...}) for run.log; end of input
finishes the run. Prints "ready" once the run is initialised, so the controller sees a failure early.
"""

import json
import sys


def main() -> None:
    try:
        import wandb
    except ImportError:
        sys.exit("wandb is not installed in this Python (pip install wandb)")
    init = json.loads(sys.stdin.readline())
    run = wandb.init(
        project=init["project"],
        name=init.get("name"),
        dir=init["dir"],
        mode=init.get("mode", "offline"),
        config=init.get("config") or {},
    )
    print("ready", flush=True)
    for line in sys.stdin:
        row = json.loads(line)
        step = row.pop("step")
        row.pop("time", None)
        run.log(row, step=step)
    run.finish()


if __name__ == "__main__":
    main()
