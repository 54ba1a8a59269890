"""Frame codec of PROTOCOL.md: `[u32 frame_len][u32 header_len][msgpack header][pad][blob]`.

The blob starts 8-byte aligned from the frame start and each array 8-byte aligned within the blob, so
both sides can view arrays in place (torch.frombuffer here, typed-array views in Node)."""

import socket
import struct
import sys

import msgpack
import torch

from .errors import ProtocolError

assert sys.byteorder == "little", "the wire format is little-endian and arrays are viewed in place"

ALIGN = 8
PREFIX = struct.Struct("<II")  # frame_len, header_len
DTYPES = {
    "f32": torch.float32,
    "f64": torch.float64,
    "i32": torch.int32,
    "i64": torch.int64,
    "u8": torch.uint8,
    "bf16": torch.bfloat16,
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def align(n: int) -> int:
    return (n + ALIGN - 1) & ~(ALIGN - 1)


def _to_wire(obj):
    # msgpack default hook: torch/numpy scalars that slipped into a result map
    if isinstance(obj, torch.Tensor) and obj.numel() == 1:
        return obj.item()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"cannot send {type(obj).__name__} in a header")


def encode_frame(header: dict, arrays: dict[str, torch.Tensor] | None = None) -> list:
    """Returns the frame as a list of buffers (prefix + header, then each array's bytes in place)."""
    descs, parts, offset = {}, [], 0
    for name, t in (arrays or {}).items():
        if t.dtype not in DTYPE_NAMES:
            raise TypeError(f"array {name!r}: dtype {t.dtype} has no wire name")
        t = t.detach().to("cpu").contiguous()
        nbytes = t.numel() * t.element_size()
        descs[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "offset": offset}
        if nbytes:
            parts.append(memoryview(t.reshape(-1).view(torch.uint8).numpy()))
        if align(nbytes) > nbytes:
            parts.append(bytes(align(nbytes) - nbytes))
        offset += align(nbytes)
    head = msgpack.packb({**header, "arrays": descs}, use_bin_type=True, default=_to_wire)
    blob_start = align(PREFIX.size + len(head))
    prefix = PREFIX.pack(blob_start - 4 + offset, len(head)) + head + bytes(blob_start - PREFIX.size - len(head))
    return [prefix, *parts]


def decode_frame(frame: bytearray | bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    """`frame` is a whole frame, length prefix included. Arrays are views into it (no copy)."""
    if len(frame) < PREFIX.size:
        raise ProtocolError(f"frame of {len(frame)} bytes is shorter than its 8-byte prefix")
    frame_len, header_len = PREFIX.unpack_from(frame, 0)
    if frame_len + 4 != len(frame):
        raise ProtocolError(f"frame_len {frame_len} does not match the {len(frame) - 4} bytes received")
    if PREFIX.size + header_len > len(frame):
        raise ProtocolError(f"header_len {header_len} runs past the end of a {len(frame)}-byte frame")
    try:
        header = msgpack.unpackb(memoryview(frame)[PREFIX.size : PREFIX.size + header_len], raw=False)
    except Exception as e:  # msgpack raises several unrelated types for garbage
        raise ProtocolError(f"header is not valid msgpack: {e}") from e
    if not isinstance(header, dict):
        raise ProtocolError(f"header must be a map, got {type(header).__name__}")
    blob_start = align(PREFIX.size + header_len)
    blob_len = len(frame) - blob_start
    descs = header.get("arrays") or {}
    if not isinstance(descs, dict):
        raise ProtocolError("header field 'arrays' must be a map of descriptors")
    try:
        arrays = {name: _view(frame, blob_start, blob_len, name, d) for name, d in descs.items()}
    except ProtocolError as e:
        e.request_id = header.get("id")  # the header was readable: the error can still be answered to it
        raise
    return header, arrays


def _view(frame, blob_start: int, blob_len: int, name: str, d) -> torch.Tensor:
    if not isinstance(d, dict) or d.get("dtype") not in DTYPES:
        got = d.get("dtype") if isinstance(d, dict) else d
        raise ProtocolError(f"array {name!r}: unknown dtype {got!r}; valid: {', '.join(DTYPES)}")
    shape, offset = d.get("shape"), d.get("offset")
    if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise ProtocolError(f"array {name!r}: shape must be a list of non-negative ints, got {shape!r}")
    if not isinstance(offset, int) or offset < 0:
        raise ProtocolError(f"array {name!r}: offset must be a non-negative int, got {offset!r}")
    dtype = DTYPES[d["dtype"]]
    count = 1
    for s in shape:
        count *= s
    nbytes = count * dtype.itemsize
    if offset + nbytes > blob_len:
        raise ProtocolError(f"array {name!r}: bytes {offset}..{offset + nbytes} run past the {blob_len}-byte blob")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    if isinstance(frame, bytes):  # frombuffer needs a writable buffer to avoid a warning
        frame = bytearray(frame)
    return torch.frombuffer(frame, dtype=dtype, count=count, offset=blob_start + offset).view(shape)


def recv_frame(sock: socket.socket) -> bytearray | None:
    """One whole frame (prefix included) or None when the peer closed the connection between frames."""
    head = _recv_exact(sock, 4, allow_eof=True)
    if head is None:
        return None
    (frame_len,) = struct.unpack("<I", head)
    frame = bytearray(4 + frame_len)  # malloc'd: aligned, so the blob's 8-byte alignment holds in memory
    frame[:4] = head
    view = memoryview(frame)[4:]
    while view:
        n = sock.recv_into(view)
        if n == 0:
            raise ConnectionError("connection closed in the middle of a frame")
        view = view[n:]
    return frame


def _recv_exact(sock: socket.socket, n: int, allow_eof: bool) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            if allow_eof and not buf:
                return None
            raise ConnectionError("connection closed in the middle of a frame")
        buf += chunk
    return buf


def send_frame(sock: socket.socket, parts: list) -> None:
    for p in parts:
        sock.sendall(p)
