"""The framing between the app and its synthesis children: a JSON header, then raw samples.

Each message is a 4-byte big-endian length, that many bytes of UTF-8 JSON, then the number of
payload bytes the header names in `bytes` (0 when absent). Speech travels as raw little-endian
float32, so a line of a few seconds costs one copy each way instead of a text encoding of it.
Both ends use it: `tts/worker.py` (the child) and `tts/remote.py` (the app), and neither needs
more than the standard library and numpy.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

import numpy as np

_LENGTH = struct.Struct(">I")
#: A header never comes near this; a larger length means the stream is out of step (garbage).
MAX_HEADER_BYTES = 1 << 20
#: Ten minutes of 48 kHz float32, far beyond any sentence: a guard against a corrupt length.
MAX_PAYLOAD_BYTES = 4 * 48_000 * 600


class WireClosed(EOFError):
    """The other end has gone (its process exited, or the pipe was closed)."""


def send(stream: BinaryIO, header: dict[str, Any], payload: bytes = b"") -> None:
    """Write one message and flush it; BrokenPipeError/OSError when the other end has gone."""
    if payload:
        header = {**header, "bytes": len(payload)}
    body = json.dumps(header, separators=(",", ":")).encode("utf-8")
    stream.write(_LENGTH.pack(len(body)) + body + payload)
    stream.flush()


def _read_exactly(stream: BinaryIO, count: int) -> bytes:
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            raise WireClosed("the other end closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(stream: BinaryIO) -> tuple[dict[str, Any], bytes]:
    """Read one message: its header and its payload. WireClosed at end of stream."""
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    if length > MAX_HEADER_BYTES:
        raise WireClosed(f"a header of {length} bytes: the stream is out of step")
    header = json.loads(_read_exactly(stream, length).decode("utf-8"))
    if not isinstance(header, dict):
        raise WireClosed("a header that is not an object: the stream is out of step")
    size = int(header.get("bytes", 0))
    if not 0 <= size <= MAX_PAYLOAD_BYTES:
        raise WireClosed(f"a payload of {size} bytes: the stream is out of step")
    return header, _read_exactly(stream, size) if size else b""


def samples_to_bytes(audio: np.ndarray) -> bytes:
    return np.ascontiguousarray(audio, dtype="<f4").tobytes()


def bytes_to_samples(payload: bytes) -> np.ndarray:
    return np.frombuffer(payload, dtype="<f4").astype(np.float32)
