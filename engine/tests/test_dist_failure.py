"""A rank that hangs (SIGSTOP) under torchrun: rank 0's collective times out (SIMPLERL_DIST_TIMEOUT_S),
it names the rank whose heartbeat stopped in its answer, and the run ends (no process left behind).
SIGKILL of a rank mid-step is tested end to end from the controller in src/engine/launch.test.ts."""

import os
import re
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_server import EngineProc  # noqa: E402
from test_train import TINY, arrays_for, make_batch  # noqa: E402

TIMEOUT_S = 6


def _pids(stderr: str) -> dict[int, int]:
    return {int(r): int(p) for p, r in re.findall(r"pid (\d+) rank (\d+)/2", stderr)}


def test_a_hung_rank_is_named_and_the_run_ends(monkeypatch):
    monkeypatch.setenv("SIMPLERL_DIST_TIMEOUT_S", str(TIMEOUT_S))
    e = EngineProc(nproc=2)
    pids = {}
    try:
        e.ok("load", {"role": "policy", "config": TINY, "optim": {"lr": 1e-3}})
        pids = _pids(e.stderr_text())
        assert set(pids) == {0, 1}, e.stderr_text()
        os.kill(pids[1], signal.SIGSTOP)
        t0 = time.monotonic()
        header, _ = e.call("train", {"role": "policy", "loss": "sft"}, arrays_for("sft", make_batch(1)))
        assert not header["ok"]
        message = header["error"]["message"]
        assert "collective failed" in message and "rank 1 stopped responding" in message, message
        assert time.monotonic() - t0 < 60
        e.proc.wait(90)  # rank 0 exits; torchrun stops rank 1 (SIGTERM stays pending while stopped, then SIGKILL)
        assert e.proc.returncode != 0
    finally:
        _kill_all(pids.values())
        e.close()


def test_ranks_die_with_their_launcher():
    """The controller kills the launcher (SIGKILL: no cleanup runs) when the engine hangs; the ranks go
    with it (PR_SET_PDEATHSIG), so no rank outlives the run."""
    e = EngineProc(nproc=2, launcher=[sys.executable, "-m", "simplerl_engine.launch", "--standalone", "--nproc-per-node=2"])
    pids = {}
    try:
        e.ok("hello")
        pids = _pids(e.stderr_text())
        assert set(pids) == {0, 1}
        os.kill(e.proc.pid, signal.SIGKILL)
        e.proc.wait(10)
        deadline = time.monotonic() + 10
        alive = set(pids.values())
        while alive and time.monotonic() < deadline:
            alive = {p for p in alive if _is_running(p)}
            time.sleep(0.1)
        assert not alive, f"ranks still running: {alive}"
    finally:
        _kill_all(pids.values())
        e.close()


def _kill_all(pids) -> None:
    """SIGKILL every rank still there (a failed test must not leave ranks behind)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _is_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
