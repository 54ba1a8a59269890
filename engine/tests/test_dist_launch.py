"""The two-node launch of the README, simulated on one machine: two launchers (`python -m
simplerl_engine.launch`, torchrun's static rendezvous: --nnodes 2 --node-rank R --master-addr/port), one
rank each; node 0's rank 0 serves the socket, node 1's rank follows, both exit 0 after `shutdown`."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_helpers import free_port  # noqa: E402
from test_server import ENGINE_DIR, EngineProc  # noqa: E402
from test_train import TINY, arrays_for, make_batch  # noqa: E402


def test_two_nodes_with_static_rendezvous(tmp_path):
    rdzv = ["--nnodes", "2", "--master-addr", "127.0.0.1", "--master-port", str(free_port())]
    launch = [sys.executable, "-m", "simplerl_engine.launch", *rdzv, "--nproc-per-node", "1"]
    env = {**os.environ, "PYTHONPATH": ENGINE_DIR, "OMP_NUM_THREADS": "1"}
    with open(tmp_path / "node1.log", "w") as log:
        node1 = subprocess.Popen([*launch, "--node-rank", "1", "-m", "simplerl_engine", "--socket",
                                  str(tmp_path / "unused.sock"), "--device", "cpu", "--threads", "1"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    e = EngineProc(nproc=2, launcher=[*launch, "--node-rank", "0"])
    try:
        assert e.ok("hello")[0]["world_size"] == 2
        e.ok("load", {"role": "policy", "config": TINY, "optim": {"lr": 1e-3}})
        stats, _ = e.ok("train", {"role": "policy", "loss": "sft"}, arrays_for("sft", make_batch(1)))
        assert stats["num_seqs"] == 6 and stats["loss"] == pytest.approx(stats["nll"], rel=1e-6)
        e.ok("shutdown")
        assert e.close(timeout=60) == 0
        assert node1.wait(60) == 0
        assert "rank 1/2" in (tmp_path / "node1.log").read_text()
    finally:
        if node1.poll() is None:
            os.killpg(node1.pid, signal.SIGKILL)
            node1.wait()
        e.close()
