"""python -m simplerl_engine --socket PATH [--device cpu|cuda|auto] [--threads N] [--heartbeat-s S]"""

import argparse
import os
import signal
import sys

from .requirements import check_or_exit

check_or_exit()  # before the imports below: a missing package is named with its install command

import torch  # noqa: E402

from . import dist  # noqa: E402
from .server import Server, follow  # noqa: E402
from .launch import finish, make_worker  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m simplerl_engine", description=__doc__)
    p.add_argument("--socket", required=True, help="Unix socket path to bind (rank 0)")
    p.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--heartbeat-s", type=float, default=2.0, help="seconds between heartbeat events")
    a = p.parse_args(argv)
    # The controller owns shutdown: a Ctrl-C meant for it (it saves a checkpoint first) must not kill the
    # engine mid-step. The engine ends on `shutdown`, on the socket's EOF, or when a heartbeat fails.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        print("simplerl_engine: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    device = torch.device("cuda" if a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available()) else "cpu")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init(device)
    worker = make_worker(device, torch.get_num_threads())  # DistWorker under torchrun with N > 1 (launch.py)
    print(f"simplerl_engine: pid {os.getpid()} rank {dist.rank()}/{dist.world_size()} torch {torch.__version__} "
          f"device {device} threads {torch.get_num_threads()}", file=sys.stderr, flush=True)
    if dist.is_main():
        Server(worker, a.socket, a.heartbeat_s).serve()
    else:
        follow(worker)
    return 0


if __name__ == "__main__":
    finish(main())  # sys.exit at N = 1
