"""Plain JSON of schema v1, for messages checked by hand (the derived room snapshot)."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from contract.errors import SchemaError
from contract.vocab import SCHEMA_VERSION


def load(payload: bytes | str) -> dict[str, Any]:
    """A JSON object of schema v1 (for messages declared by hand, the derived snapshot)."""
    try:
        data = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        try:
            data = json.loads(payload)
        except RecursionError:
            raise SchemaError("payload", "nested too deeply") from None
        except (ValueError, TypeError) as exc:
            raise SchemaError("payload", f"not valid JSON ({exc})") from None
    except RecursionError:
        raise SchemaError("payload", "nested too deeply") from None
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
