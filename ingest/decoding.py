"""Decoding guards for :mod:`ingest.schema`: a ``decode_*`` function raises
:class:`~ingest.wire.SchemaError` for every payload it cannot accept, and nothing else.

JSON a broker account can send is stranger than the schema: nesting that exhausts the
parser's recursion, integers beyond the float range (or thousands of digits long), text
whose escapes spell half a UTF-16 surrogate pair, event data nested like a tree. Each is
refused here with the field at fault, so every consumer (recorder, engine, live hub)
counts it as one reject and the store never receives what it cannot keep.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from ingest.wire import SchemaError

__all__ = ["MAX_DATA_DEPTH", "MAX_SEQ", "check_data", "check_unicode", "decoder",
           "in_float_range"]

MAX_SEQ = 2**63 - 1  # the store keeps sequence numbers as 64-bit integers
MAX_DATA_DEPTH = 8  # an event's data is an object of plain values, not a tree

_Message = TypeVar("_Message")


def decoder(decode: Callable[[bytes | str], _Message]) -> Callable[[bytes | str], _Message]:
    """``decode`` raising :class:`SchemaError` for every payload it cannot accept.

    The parsers and checks raise a few other errors on pathological input (RecursionError
    on deep nesting, ValueError on integers of thousands of digits, OverflowError on ones
    beyond the float range): each becomes a :class:`SchemaError` on ``payload``.
    """

    @functools.wraps(decode)
    def checked(payload: bytes | str) -> _Message:
        try:
            return decode(payload)
        except SchemaError:
            raise
        except RecursionError:
            raise SchemaError("payload", "nested too deeply") from None
        except (ValueError, OverflowError, TypeError) as exc:
            raise SchemaError("payload", f"not readable ({type(exc).__name__}: "
                                         f"{str(exc)[:120]})") from None

    return checked


def in_float_range(data: dict[str, Any], *names: str) -> None:
    """Name a field whose integer is beyond the float range (before a check converts it)."""
    for name in names:
        value = data.get(name)
        if isinstance(value, int) and abs(value) > sys.float_info.max:
            raise SchemaError(name, "a number beyond the float range")


def check_unicode(name: str, value: object) -> None:
    """Text JSON can spell (``"\\ud800"``) but UTF-8, and so the store, cannot hold."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SchemaError(name, "text with a lone surrogate (not valid Unicode)") from None


def check_data(data: object) -> None:
    """An event's ``data`` as the store keeps it (a JSON column): at most
    :data:`MAX_DATA_DEPTH` levels, finite numbers, integers within 64 bits, valid text."""
    if not isinstance(data, dict):
        return  # the Event names it
    for key, value in data.items():
        name = f"data.{key}" if len(key) <= 40 and key.isascii() else "data"
        stack: list[tuple[object, int]] = [(key, 1), (value, 1)]
        while stack:
            item, depth = stack.pop()
            if isinstance(item, str):
                check_unicode(name, item)
            elif isinstance(item, float) and not math.isfinite(item):
                raise SchemaError(name, f"{item!r} is not a finite number")
            elif isinstance(item, int) and not -MAX_SEQ - 1 <= item <= MAX_SEQ:
                raise SchemaError(name, "a whole number beyond 64 bits")
            elif isinstance(item, dict | list) and depth >= MAX_DATA_DEPTH:
                raise SchemaError(name, f"nested deeper than {MAX_DATA_DEPTH} levels")
            elif isinstance(item, dict):
                stack.extend((part, depth + 1) for pair in item.items() for part in pair)
            elif isinstance(item, list):
                stack.extend((part, depth + 1) for part in item)
