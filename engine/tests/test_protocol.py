import struct
import sys
from pathlib import Path

import msgpack
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simplerl_engine.errors import ProtocolError  # noqa: E402
from simplerl_engine.protocol import DTYPES, decode_frame, encode_frame  # noqa: E402

torch.set_num_threads(1)


def frame_bytes(header, arrays=None) -> bytearray:
    return bytearray(b"".join(bytes(p) for p in encode_frame(header, arrays)))


def test_round_trip_every_dtype_aligned():
    g = torch.Generator().manual_seed(0)
    arrays = {
        "f32": torch.randn(5, generator=g),
        "f64": torch.randn(2, 3, generator=g, dtype=torch.float64),
        "i32": torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32),
        "i64": torch.tensor([2**40, -(2**62)], dtype=torch.int64),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "bf16": torch.randn(3, generator=g).bfloat16(),
        "empty": torch.zeros(0, dtype=torch.float32),
    }
    header = {"id": 7, "op": "x", "args": {"big": 2**40, "s": "é", "l": [1, 2.5]}}
    frame = frame_bytes(header, arrays)
    frame_len, header_len = struct.unpack_from("<II", frame)
    assert frame_len == len(frame) - 4
    blob_start = (8 + header_len + 7) // 8 * 8
    h, got = decode_frame(frame)
    assert h["id"] == 7 and h["args"] == header["args"]
    assert set(DTYPES) <= {d["dtype"] for d in h["arrays"].values()}
    for name, t in arrays.items():
        assert (blob_start + h["arrays"][name]["offset"]) % 8 == 0
        assert got[name].dtype == t.dtype and torch.equal(got[name], t), name


def test_decoded_arrays_are_views_of_the_frame():
    frame = frame_bytes({"id": 1}, {"a": torch.arange(4, dtype=torch.int32)})
    _, got = decode_frame(frame)
    got["a"][0] = 99
    _, again = decode_frame(frame)
    assert int(again["a"][0]) == 99


def raw_frame(header_bytes: bytes, blob: bytes = b"") -> bytearray:
    start = (8 + len(header_bytes) + 7) // 8 * 8
    body = struct.pack("<I", len(header_bytes)) + header_bytes + bytes(start - 8 - len(header_bytes)) + blob
    return bytearray(struct.pack("<I", len(body)) + body)


@pytest.mark.parametrize(
    "frame, match",
    [
        (raw_frame(b"\xc1\xc1\xc1"), "not valid msgpack"),
        (raw_frame(msgpack.packb([1, 2])), "must be a map"),
        (raw_frame(msgpack.packb({"id": 1, "arrays": {"a": {"dtype": "f16", "shape": [1], "offset": 0}}}), bytes(8)),
         "unknown dtype"),
        (raw_frame(msgpack.packb({"id": 1, "arrays": {"a": {"dtype": "f32", "shape": [4], "offset": 0}}}), bytes(8)),
         "run past"),
        (raw_frame(msgpack.packb({"id": 1, "arrays": {"a": {"dtype": "f32", "shape": [-1], "offset": 0}}})),
         "shape"),
        (bytearray(struct.pack("<II", 4, 100)), "runs past the end"),
        (bytearray(struct.pack("<II", 10, 0)), "does not match"),
    ],
)
def test_malformed_frames_raise_protocol_error(frame, match):
    with pytest.raises(ProtocolError, match=match):
        decode_frame(frame)
