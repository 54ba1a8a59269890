"""Socket loop (rank 0), heartbeat thread, and `dispatch`, the one function every rank runs per request.

Rank 0 decodes a frame, broadcasts the request (`dist.broadcast_request`, a no-op at N = 1) and
dispatches it; ranks > 0 run `follow`, which receives the same requests and dispatches them too."""

import os
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

import torch

from . import dist
from .errors import EngineError, OutOfMemory, ProtocolError
from .protocol import decode_frame, encode_frame, recv_frame, send_frame
from .worker import Worker

READY = "SIMPLERL_ENGINE_READY"
ACCEPT_TIMEOUT_S = 300


@dataclass
class Request:
    id: int | None
    op: str | None
    args: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    error: EngineError | None = None  # set when the frame could not be decoded


@dataclass
class Response:
    header: dict
    arrays: dict = field(default_factory=dict)


def parse_request(frame: bytearray) -> Request:
    """A request from a whole frame; a malformed one becomes a Request carrying its ProtocolError."""
    try:
        header, arrays = decode_frame(frame)
    except ProtocolError as e:
        rid = getattr(e, "request_id", None)
        return Request(rid if isinstance(rid, int) and not isinstance(rid, bool) and rid > 0 else None, None, error=e)
    rid = header.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool) or rid <= 0:
        return Request(None, None, error=ProtocolError(f"header field 'id' must be a positive int, got {rid!r}"))
    op, args = header.get("op"), header.get("args", {})
    if not isinstance(op, str):
        return Request(rid, None, error=ProtocolError(f"header field 'op' must be a string, got {op!r}"))
    if args is None:
        args = {}
    return Request(rid, op, args, arrays)


def error_response(rid, e: BaseException) -> Response:
    etype = e.type if isinstance(e, EngineError) else "EngineError"
    tb = "".join(traceback.format_exception(e))
    return Response({"id": rid, "ok": False, "error": {"type": etype, "message": str(e) or type(e).__name__,
                                                        "traceback": tb}})


def dispatch(worker: Worker, req: Request) -> Response:
    """Runs one request on this rank; never raises (every failure becomes a typed error response)."""
    if req.error is not None:
        return error_response(req.id, req.error)
    try:
        result, arrays = worker.call(req.op, req.args, req.arrays)
        return Response({"id": req.id, "ok": True, "result": result}, arrays)
    except torch.OutOfMemoryError as e:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        sizes = {k: list(v.shape) for k, v in req.arrays.items()}
        return error_response(req.id, OutOfMemory(f"{req.op}: out of memory with arrays {sizes}: {e}"))
    except Exception as e:
        return error_response(req.id, e)


def follow(worker: Worker) -> None:
    """The loop of ranks > 0: take each request rank 0 broadcasts, run it, stop after shutdown."""
    while True:
        req = dist.broadcast_request(None)
        dispatch(worker, req)
        if req.op == "shutdown":
            return


class Server:
    def __init__(self, worker: Worker, socket_path: str, heartbeat_s: float = 2.0):
        self.worker, self.socket_path, self.heartbeat_s = worker, socket_path, heartbeat_s
        self.send_lock = threading.Lock()  # heartbeat thread and main loop share the socket
        self.busy_op: str | None = None
        self.busy_since = 0.0
        self.stop = threading.Event()

    def serve(self) -> None:
        """Binds, prints the ready line, serves one connection until `shutdown` or EOF."""
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(1)
        print(f"{READY} {self.socket_path}", flush=True)
        conn = None
        listener.settimeout(ACCEPT_TIMEOUT_S)  # a controller that died before connecting must not leave us behind
        try:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                print(f"simplerl_engine: no connection within {ACCEPT_TIMEOUT_S} s; exiting", file=sys.stderr, flush=True)
                return
            conn.settimeout(None)
            listener.close()
            os.unlink(self.socket_path)  # nobody else may connect; the path is not needed any more
            beat = threading.Thread(target=self._heartbeat, args=(conn,), daemon=True, name="heartbeat")
            beat.start()
            self._loop(conn)
        finally:
            self.stop.set()
            if conn is not None:
                conn.close()
            listener.close()
            if os.path.exists(self.socket_path):
                os.unlink(self.socket_path)

    def _loop(self, conn: socket.socket) -> None:
        while True:
            try:
                frame = recv_frame(conn)
            except OSError as e:  # closed in the middle of a frame, reset
                print(f"simplerl_engine: {e}", file=sys.stderr, flush=True)
                frame = None
            if frame is None:  # controller closed the connection: exit like shutdown
                self._stop_followers()
                return
            req = dist.broadcast_request(parse_request(frame))
            del frame  # the request's arrays still reference the buffer; it goes with them
            self.busy_op, self.busy_since = req.op, time.monotonic()
            resp = dispatch(self.worker, req)
            self.busy_op = None
            try:
                parts = encode_frame(resp.header, resp.arrays)
            except Exception as e:  # e.g. a result that msgpack cannot encode: still answer
                parts = encode_frame(*_as_header(error_response(req.id, e)))
            try:
                with self.send_lock:
                    send_frame(conn, parts)
            except OSError as e:
                print(f"simplerl_engine: cannot answer: {e}", file=sys.stderr, flush=True)
                if not self.worker.is_shutdown:
                    self._stop_followers()
                return
            if self.worker.is_shutdown:
                return

    def _stop_followers(self) -> None:
        """Ranks > 0 wait in `follow` for the next request: end them with a shutdown of their own."""
        if dist.world_size() > 1:
            dispatch(self.worker, dist.broadcast_request(Request(None, "shutdown")))

    def _send(self, conn, header, arrays=None) -> None:
        parts = encode_frame(header, arrays)
        with self.send_lock:
            send_frame(conn, parts)

    def _heartbeat(self, conn: socket.socket) -> None:
        while not self.stop.wait(self.heartbeat_s):
            op = self.busy_op
            busy_s = time.monotonic() - self.busy_since if op else 0.0
            try:
                self._send(conn, {"id": 0, "event": "heartbeat", "busy_op": op, "busy_s": busy_s})
            except OSError as e:
                if self.stop.wait(1.0):  # the main loop saw the close itself (EOF, shutdown): a clean exit
                    return
                # the controller is gone: finishing the op (maybe minutes of GPU time) would serve nobody
                print(f"simplerl_engine: controller unreachable ({e}); exiting", file=sys.stderr, flush=True)
                os._exit(3)


def _as_header(resp: Response):
    return resp.header, resp.arrays
