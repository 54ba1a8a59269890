"""Launching N ranks, and per-rank start-up under torchrun.

`python -m simplerl_engine.launch [torchrun options] -m simplerl_engine --socket ...` is torchrun
(torch.distributed.run, same options) with one addition: when a rank fails, its last line on stderr is
`simplerl_engine: rank R failed: exit code C (SIGNAL), pid P` followed by that rank's last stderr lines
(each rank prefixes its own stderr lines with `[rank R]`), so the controller's error names the rank.

Each rank's ties to the run, so that no rank outlives it:

- each rank asks Linux to SIGKILL it when its parent (torchrun's agent) dies, even by SIGKILL: the
  controller kills torchrun when the engine hangs, and the ranks must go with it;
- a collective that fails (a peer died, or hung past the collective timeout) leaves the process group
  unusable, so the rank answers the request with an error naming the failure and then exits
  (`EXIT_COLLECTIVE_FAILED`): torchrun then stops the other ranks and reports which one failed."""

import ctypes
import os
import signal
import sys
import threading
import time

import torch

from . import dist

COLLECTIVE_FAILED = "collective failed"  # message prefix of the error a rank answers before it exits
RANK_FAILED = "simplerl_engine: rank"  # start of the launcher's failure line (src/engine/launch.ts parses it)
RANK_TAIL_LINES = 20
RANK_LOG_DIR_ENV = "SIMPLERL_RANK_LOG_DIR"
EXIT_COLLECTIVE_FAILED = 4
EXIT_DELAY_S = 1.0  # time for the error answer to reach the controller before the rank exits
PR_SET_PDEATHSIG = 1
HEARTBEAT_KEY = "simplerl/alive/{}"
HEARTBEAT_S = 1.0
STALE_AFTER_S = 3.0  # a heartbeat counter unchanged this long: the rank is dead or stopped


def die_with_parent() -> None:
    """Linux only; a no-op elsewhere or when not under torchrun."""
    if "TORCHELASTIC_RUN_ID" not in os.environ or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def is_collective_failure(e: BaseException) -> bool:
    """Errors raised by a broken process group (peer gone, timeout), as opposed to a bad request."""
    if isinstance(e, getattr(torch.distributed, "DistError", ())):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and any(s in text for s in (
        "Connection closed by peer", "Connection reset by peer", "Timed out", "timed out", "Broken pipe",
        "Gloo", "NCCL", "ProcessGroup"))


def exit_soon(code: int = EXIT_COLLECTIVE_FAILED) -> None:
    """Ends the process after EXIT_DELAY_S, from a daemon thread (the main thread is answering)."""
    threading.Timer(EXIT_DELAY_S, os._exit, (code,)).start()


def _store():
    from torch.distributed import distributed_c10d

    return distributed_c10d._get_default_store()  # torchrun's store: outlives any one rank


def start_peer_heartbeat() -> None:
    """Each rank bumps its counter in the rendezvous store every HEARTBEAT_S (a daemon thread, so it
    stops with the process, or when the process is stopped)."""
    store, key = _store(), HEARTBEAT_KEY.format(dist.rank())

    def beat():
        n = 0
        while True:
            n += 1
            try:
                store.set(key, str(n))
            except Exception:
                return  # the store is gone: the run is ending
            time.sleep(HEARTBEAT_S)

    threading.Thread(target=beat, daemon=True, name="peer-heartbeat").start()


def unresponsive_peers() -> list[int]:
    """Ranks whose heartbeat counter does not move within STALE_AFTER_S (dead, stopped, or never started)."""
    store = _store()

    def counters():
        out = {}
        for r in range(dist.world_size()):
            try:
                out[r] = store.get(HEARTBEAT_KEY.format(r)) if store.check([HEARTBEAT_KEY.format(r)]) else None
            except Exception:
                out[r] = None
        return out

    before = counters()
    time.sleep(STALE_AFTER_S)
    after = counters()
    return [r for r in range(dist.world_size()) if r != dist.rank() and (after[r] is None or after[r] == before[r])]


def collective_failure(op: str, e: BaseException):
    """The error to answer after collective `op` failed: it names the peers whose heartbeat stopped.
    The process group is unusable now, so the process exits once the answer is out (torchrun then
    stops the other ranks)."""
    from .errors import EngineError

    stale = unresponsive_peers()
    who = (f"rank {', '.join(map(str, stale))} stopped responding (its heartbeat stopped: dead or hung)"
           if stale else "a peer rank failed (every heartbeat still runs)")
    msg = f"{op}: {COLLECTIVE_FAILED} on rank {dist.rank()}/{dist.world_size()}: {who}; the engine exits ({e})"
    print(f"simplerl_engine: {msg}", file=sys.stderr, flush=True)
    exit_soon()
    return EngineError(msg)


def finish(code: int):
    """Ends the process with `code`. With N > 1 the interpreter's teardown is skipped once the work is done
    and stdio flushed: C++ destructors of torch's collective threads occasionally abort there ("terminate
    called without an active exception", seen ~1 run in 10 on CPU with gloo), which would turn a clean
    exit into SIGABRT."""
    if dist.world_size() == 1:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def make_worker(device: torch.device, threads: int):
    """Worker at N = 1 (unchanged); DistWorker (FSDP2, data-parallel ops) under torchrun with N > 1."""
    from .worker import Worker

    die_with_parent()
    prefix_stderr()
    if dist.world_size() == 1:
        return Worker(device, threads)
    from .dist_worker import DistWorker

    start_peer_heartbeat()
    return DistWorker(device, threads)


class _RankPrefixed:
    """A rank's sys.stderr: each line starts with `[rank R] ` (all ranks share the launcher's stderr),
    and is also appended to $SIMPLERL_RANK_LOG_DIR/rank-R.log, read back by `main` when the rank fails."""

    def __init__(self, stream, rank: int, log_file):
        self.stream, self.log = stream, log_file
        self.prefix, self.at_line_start = f"[rank {rank}] ", True

    def write(self, s: str) -> int:
        out = []
        for part in s.splitlines(keepends=True):
            out.append((self.prefix if self.at_line_start else "") + part)
            self.at_line_start = part.endswith("\n")
        self.stream.write("".join(out))
        if self.log is not None:
            self.log.write(s)
            self.log.flush()
        return len(s)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def prefix_stderr() -> None:
    """Under torchrun with N > 1: tag this rank's stderr lines and keep them in its log file."""
    if dist.world_size() == 1 or isinstance(sys.stderr, _RankPrefixed):
        return
    log_dir = os.environ.get(RANK_LOG_DIR_ENV)
    log = open(os.path.join(log_dir, f"rank-{dist.rank()}.log"), "a", buffering=1) if log_dir else None
    sys.stderr = _RankPrefixed(sys.stderr, dist.rank(), log)


def _tail(path: str, num_lines: int) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-num_lines:]
    except OSError:
        return []


def _signal_name(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return "error" if exitcode else "ok"


def main(argv=None) -> int:
    """torchrun, plus a failure line naming the rank that failed first, and that rank's stderr tail."""
    import tempfile

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    args = get_args_parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="simplerl-ranks-") as log_dir:
        os.environ[RANK_LOG_DIR_ENV] = log_dir  # inherited by the ranks this node starts
        try:
            run(args)
            return 0
        except ChildFailedError as e:
            rank, failure = e.get_first_failure()
            lines = [f"{RANK_FAILED} {rank} failed: exit code {failure.exitcode} ({_signal_name(failure.exitcode)}), "
                     f"pid {failure.pid}; its last stderr lines:"]
            lines += [f"  | {line}" for line in _tail(os.path.join(log_dir, f"rank-{rank}.log"), RANK_TAIL_LINES)]
            print("\n".join(lines), file=sys.stderr, flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
