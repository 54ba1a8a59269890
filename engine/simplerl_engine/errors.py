"""Typed errors that cross the socket. `type` is the wire name (PROTOCOL.md, "Error types")."""


class EngineError(Exception):
    """Anything the engine reports; subclasses name the failure class on the wire."""

    type = "EngineError"


class ProtocolError(EngineError):
    """A frame that cannot be decoded (bad msgpack, descriptor outside the blob, unknown dtype)."""

    type = "ProtocolError"


class UnknownOp(EngineError):
    type = "UnknownOp"


class BadRequest(EngineError):
    """A missing or ill-typed argument or array; the message names the field."""

    type = "BadRequest"


class NotLoaded(EngineError):
    type = "NotLoaded"


class OutOfMemory(EngineError):
    type = "OutOfMemory"


ERROR_TYPES = ("ProtocolError", "UnknownOp", "BadRequest", "NotLoaded", "OutOfMemory", "EngineError")
