"""Validation helpers shared by every DMI Live message type (schema v1, derived state).

Each ``check_*`` returns the value or raises :class:`SchemaError` naming the field;
``load`` parses a JSON payload and checks its schema version.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

SCHEMA_VERSION = 1
MAX_TEXT = 2000

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class SchemaError(ValueError):
    """A topic or payload does not follow schema v1; ``field`` names the part at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


# ----------------------------------------------------------------------------- helpers


def check_segment(name: str, value: object) -> str:
    if not isinstance(value, str) or not _SEGMENT.match(value):
        raise SchemaError(
            name, f"{value!r} is not a valid id (lowercase letters, digits, '-' or '_', ≤64)"
        )
    return value


def check_ident(name: str, value: object) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise SchemaError(name, f"{value!r} is not a valid identifier")
    return value


def check_number(name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(name, f"expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise SchemaError(name, f"{value!r} is not a finite number")
    if positive and number <= 0:
        raise SchemaError(name, f"must be > 0, got {value!r}")
    return number


def check_int(name: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(name, f"expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise SchemaError(name, f"must be ≥ {minimum}, got {value}")
    return value


def check_text(name: str, value: object, *, limit: int = MAX_TEXT, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise SchemaError(name, f"expected text, got {type(value).__name__}")
    if not empty and not value.strip():
        raise SchemaError(name, "must not be empty")
    if len(value) > limit:
        raise SchemaError(name, f"longer than {limit} characters")
    return value


def load(payload: bytes | str) -> dict[str, Any]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        # orjson (about 4× faster) refuses what json reads beyond the standard, NaN and
        # Infinity above all: json gets a second go, so that a value check names them.
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SchemaError("payload", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SchemaError("payload", f"expected a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if version != SCHEMA_VERSION:
        raise SchemaError("v", f"unsupported schema version {version!r} (expected 1)")
    return data


def require(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise SchemaError(key, "missing")
    return data[key]


def dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
