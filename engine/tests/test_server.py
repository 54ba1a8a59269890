"""The server against a real engine subprocess; `EngineProc` is the minimal Python client other tests reuse."""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simplerl_engine.protocol import decode_frame, encode_frame, recv_frame, send_frame  # noqa: E402

ENGINE_DIR = str(Path(__file__).resolve().parents[1])


class EngineProc:
    def __init__(self, heartbeat_s: float = 2.0, nproc: int = 1, launcher: list[str] | None = None, device: str = "cpu"):
        """launcher: the command before `-m simplerl_engine` (default: this Python, or torchrun when nproc > 1)."""
        self.dir = tempfile.TemporaryDirectory(prefix="simplerl-test-")
        self.path = os.path.join(self.dir.name, "engine.sock")
        self.stderr = open(os.path.join(self.dir.name, "stderr.log"), "w+")  # a file: a full pipe would block it
        env = {**os.environ, "PYTHONPATH": ENGINE_DIR}
        if nproc > 1:
            env["OMP_NUM_THREADS"] = "1"
        if launcher is None and nproc > 1:  # torchrun next to this interpreter; --standalone picks a free port
            launcher = [str(Path(sys.executable).with_name("torchrun")), "--standalone", f"--nproc-per-node={nproc}"]
        elif launcher is None:
            launcher = [sys.executable]
        self.proc = subprocess.Popen(
            [*launcher, "-m", "simplerl_engine", "--socket", self.path, "--device", device, "--threads", "1",
             "--heartbeat-s", str(heartbeat_s)],
            stdout=subprocess.PIPE, stderr=self.stderr, env=env, text=True,
        )
        line = self.proc.stdout.readline()
        assert line.startswith("SIMPLERL_ENGINE_READY"), (line, self.stderr_text())
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)
        self.sock.settimeout(60)
        self.next_id = 1
        self.events = []

    def send_raw(self, frame: bytes) -> None:
        self.sock.sendall(frame)

    def read_response(self):
        while True:
            frame = recv_frame(self.sock)
            assert frame is not None, "engine closed the connection"
            header, arrays = decode_frame(frame)
            if header["id"] == 0:
                self.events.append(header)
                continue
            return header, arrays

    def call(self, op, args=None, arrays=None):
        rid = self.next_id
        self.next_id += 1
        send_frame(self.sock, encode_frame({"id": rid, "op": op, "args": args or {}}, arrays))
        header, out = self.read_response()
        assert header["id"] == rid
        return header, out

    def ok(self, op, args=None, arrays=None):
        header, out = self.call(op, args, arrays)
        assert header["ok"], header["error"]["message"] + "\n" + header["error"]["traceback"]
        return header["result"], out

    def close(self, timeout=20) -> int:
        if self.stderr.closed:
            return self.proc.returncode
        try:
            self.sock.close()
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.stderr.close()
            self.dir.cleanup()

    def stderr_text(self) -> str:
        self.stderr.flush()
        with open(self.stderr.name) as f:
            return f.read()



torch.set_num_threads(1)


@pytest.fixture(scope="module")
def engine():
    e = EngineProc(heartbeat_s=0.2)
    yield e
    e.close()


def test_hello_and_stats(engine):
    r, _ = engine.ok("hello")
    assert r["protocol"] == 1 and r["device"] == "cpu" and r["world_size"] == 1 and r["threads"] == 1
    assert r["torch"] == torch.__version__
    s, _ = engine.ok("stats")
    assert s["ops"]["hello"]["count"] == 1 and s["rss_bytes"] > 0 and s["roles"] == {}


def test_unknown_op_is_typed_and_server_survives(engine):
    h, _ = engine.call("frobnicate")
    assert h["ok"] is False and h["error"]["type"] == "UnknownOp"
    assert "valid: hello, load, generate, forward, train, save, stats, echo, shutdown" in h["error"]["message"]
    assert engine.ok("hello")[0]["protocol"] == 1


def test_malformed_frames_get_protocol_errors(engine):
    bad_header = b"\xc1\xc1"
    body = struct.pack("<I", len(bad_header)) + bad_header + bytes(6)
    engine.send_raw(struct.pack("<I", len(body)) + body)
    h, _ = engine.read_response()
    assert h["id"] is None and h["error"]["type"] == "ProtocolError" and "msgpack" in h["error"]["message"]
    head = msgpack.packb({"id": 99, "op": "hello", "args": {},
                          "arrays": {"x": {"dtype": "f32", "shape": [1000], "offset": 0}}})
    start = (8 + len(head) + 7) // 8 * 8
    body = struct.pack("<I", len(head)) + head + bytes(start - 8 - len(head)) + bytes(16)
    engine.send_raw(struct.pack("<I", len(body)) + body)
    h, _ = engine.read_response()
    assert h["id"] == 99 and h["error"]["type"] == "ProtocolError" and "run past" in h["error"]["message"]
    assert engine.ok("hello")[0]["protocol"] == 1


def test_typed_request_errors(engine):
    h, _ = engine.call("train", {"role": "policy", "loss": "ppo"})
    assert h["error"]["type"] == "NotLoaded"
    h, _ = engine.call("forward", {"role": "actor", "outputs": ["logprobs"]})
    assert h["error"]["type"] == "BadRequest" and "policy, ref, critic" in h["error"]["message"]
    h, _ = engine.call("hello", {"verbose": True})
    assert h["error"]["type"] == "BadRequest" and "args.verbose" in h["error"]["message"]
    h, _ = engine.call("load", {"role": "policy"})
    assert h["error"]["type"] == "BadRequest" and "exactly one of" in h["error"]["message"]
    assert h["error"]["traceback"].startswith("Traceback")


def test_generate_max_rows_per_wave_is_read_and_checked():
    """The generate op's max_rows_per_wave (rollout.max_rows_per_wave) reaches generate: the same
    samples in one-prompt waves; 0 is a BadRequest naming the field."""
    cfg = {"model_type": "qwen2", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
           "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 64}
    e = EngineProc()
    try:
        e.ok("load", {"role": "policy", "config": cfg})
        arrays = {"ids": torch.arange(12, dtype=torch.int32), "offsets": torch.tensor([0, 4, 8, 12], dtype=torch.int32)}
        args = {"n": 2, "max_new_tokens": 5, "temperature": 1.0, "seed": 3}
        _, whole = e.ok("generate", args, arrays)
        _, waves = e.ok("generate", {**args, "max_rows_per_wave": 2}, arrays)
        assert torch.equal(torch.as_tensor(whole["ids"]), torch.as_tensor(waves["ids"]))
        h, _ = e.call("generate", {**args, "max_rows_per_wave": 0}, arrays)
        assert h["error"]["type"] == "BadRequest" and "max_rows_per_wave" in h["error"]["message"]
    finally:
        e.close()


def test_heartbeats_arrive(engine):
    engine.events.clear()
    time.sleep(0.5)
    engine.ok("hello")
    assert engine.events and engine.events[0]["event"] == "heartbeat" and engine.events[0]["busy_op"] is None


def test_startup_line_on_stderr(engine):
    assert f"simplerl_engine: pid {engine.proc.pid} rank 0/1" in engine.stderr_text()


def test_shutdown_exits_zero():
    e = EngineProc()
    assert e.ok("shutdown")[0] == {}
    assert e.close() == 0


def test_closing_the_connection_exits_zero():
    e = EngineProc()
    e.ok("hello")
    assert e.close() == 0


def test_two_ranks_follow_rank_zero():
    """torchrun with 2 gloo ranks: rank 0 serves and broadcasts, rank 1 runs the same ops; each rank trains
    on its share of the sequences (dist_worker.py) and the default loss denominator is summed over ranks,
    so the loss is the whole batch's (test_dist_train.py compares N = 2 with N = 1 in detail)."""
    from test_train import TINY, arrays_for, make_batch

    e = EngineProc(nproc=2)
    try:
        assert e.ok("hello")[0]["world_size"] == 2
        e.ok("load", {"role": "policy", "config": TINY, "optim": {"lr": 1e-3}})
        stats, _ = e.ok("train", {"role": "policy", "loss": "sft"}, arrays_for("sft", make_batch(1)))
        assert stats["loss"] == pytest.approx(stats["nll"], rel=1e-6)
        assert stats["num_seqs"] == 6
        h, _ = e.call("frobnicate")
        assert h["error"]["type"] == "UnknownOp"
        assert "rank 1/2" in e.stderr_text()
        e.ok("shutdown")
        assert e.close(timeout=60) == 0
    finally:
        e.close()


def test_engine_exits_when_the_controller_vanishes_mid_op():
    """The heartbeat thread notices the closed socket while an op runs and ends the process (exit 3)
    instead of finishing work nobody will read."""
    cfg = {"model_type": "qwen2", "vocab_size": 512, "hidden_size": 256, "intermediate_size": 512,
           "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256}
    e = EngineProc(heartbeat_s=0.2)
    try:
        e.ok("load", {"role": "policy", "config": cfg})
        prompts = torch.arange(512, dtype=torch.int32) % 500
        rid = e.next_id
        send_frame(e.sock, encode_frame({"id": rid, "op": "generate", "args": {"n": 4, "max_new_tokens": 250}},
                                        {"ids": prompts, "offsets": torch.arange(0, 513, 4, dtype=torch.int32)}))
        time.sleep(0.5)
        e.sock.close()
        t0 = time.monotonic()
        assert e.proc.wait(30) == 3
        assert time.monotonic() - t0 < 10
        assert "controller unreachable" in e.stderr_text()
    finally:
        e.close()
