"""inca's errors: every failed call raises an :class:`Error` subclass named
after its status code (the C++ ``inca::StatusCode``), carrying the message
that says what was wrong and where."""

from __future__ import annotations

from typing import Dict, Optional


class Error(Exception):
    """A call into inca failed. ``code`` is the status code's stable name
    (``"no_resource"``), ``message`` what went wrong."""

    code: str = "internal"

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __reduce__(self):  # picklable across processes (multiprocessing, torch)
        return (type(self), (self.message, self.code))


# One subclass per status code: (name, code, extra Python bases, meaning).
_CODES = [
    ("InvalidArgument", "invalid_argument", (ValueError,),
     "A caller passed something that can never work (a bad buffer, an unknown name, counts "
     "that do not match)."),
    ("NotSupported", "not_supported", (),
     "A valid request the chosen path cannot serve (band on f32, innet without a tree)."),
    ("NoResource", "no_resource", (),
     "The aggregation manager cannot allocate the slots or trees asked for."),
    ("QuotaExceeded", "quota_exceeded", (), "A tenant asked for more than its share."),
    ("NoTree", "no_tree", (), "No aggregation tree spans the requested ranks."),
    ("LockFailed", "lock_failed", (), "A streaming-tree lock is busy; retryable."),
    ("LockDenied", "lock_denied", (),
     "A streaming lock the caller may never hold (it has no streaming tree); not retryable."),
    ("Timeout", "timeout", (TimeoutError,),
     "An operation did not complete within its deadline (a peer or switch stayed silent)."),
    ("MalformedPacket", "malformed_packet", (), "A packet failed validation."),
    ("Mismatch", "mismatch", (), "Ranks disagree on a collective's arguments."),
    ("ConfigError", "config_error", (), "A configuration file or knob is invalid."),
    ("IoError", "io_error", (), "An operating-system or device call failed."),
    ("Internal", "internal", (),
     "A broken invariant inside inca (a bug), or a Python algorithm that raised something "
     "other than an inca error."),
]

#: Exception class of each status code, as the native module raises them
#: (each is also a name of this module: inca.InvalidArgument, ...).
BY_CODE: Dict[str, type] = {}
for _name, _code, _bases, _doc in _CODES:
    BY_CODE[_code] = globals()[_name] = type(_name, (Error,) + _bases,
                                            {"code": _code, "__doc__": _doc,
                                             "__module__": "inca"})


class RankError(Error):
    """A rank program raised. ``rank`` is the first rank that failed,
    ``errors`` every failed rank's exception by rank; the first one is also
    this exception's ``__cause__``, so its traceback is shown."""

    code = "internal"

    def __init__(self, message: str, rank: int = -1,
                 errors: Optional[Dict[int, BaseException]] = None) -> None:
        super().__init__(message)
        self.rank = rank
        self.errors: Dict[int, BaseException] = dict(errors or {})

    def __reduce__(self):
        return (type(self), (self.message, self.rank, self.errors))


Error.__module__ = RankError.__module__ = "inca"  # shown as inca.Error, where users catch it
