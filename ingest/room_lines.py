"""Room files: where in the file each problem is (line index) and how it is reported."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Path_ = tuple[str | int, ...]
"""A place in the room document: keys and list indices."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a room file: ``line`` (1-based; 0 = the whole file), the key
    (``devices[1].baudrate``) and what is wrong. Warnings do not stop the ingest."""

    line: int
    where: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __post_init__(self) -> None:
        if self.line < 0 or self.severity not in ("error", "warning") or not self.message:
            raise ValueError(f"invalid problem {self!r}")

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def format(self, path: str | Path) -> str:
        """``room.toml:12: devices[1].baudrate: …`` (``warning:`` before warnings)."""
        where = f"{path}:{self.line}" if self.line else str(path)
        return f"{where}: {'warning: ' if self.severity == 'warning' else ''}{self}"


_ARRAY_TABLE = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")
_PART = r"(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
_KEY = re.compile(rf"^({_PART}(?:\s*\.\s*{_PART})*)\s*=(.*)$")
_STRING = re.compile(r"\"\"\".*?\"\"\"|'''.*?'''|\"(?:\\.|[^\"\\])*\"|'[^']*'", re.S)


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def _balance(text: str) -> int:
    """Open brackets and braces left by ``text`` (strings and comments ignored)."""
    code = _STRING.sub("", text).split("#", 1)[0]
    return sum(code.count(c) for c in "[{") - sum(code.count(c) for c in "]}")


class _LineIndex:
    """Line of each table header and ``key =`` line, by key path (devices by index)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path_, int] = {}
        devices = -1
        table: Path_ = ()
        depth = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            if depth > 0:  # inside a multi-line array or inline table
                depth += _balance(raw)
                continue
            line = raw.strip()
            if match := _ARRAY_TABLE.match(line):
                name = _dotted(match[1])
                if name == ("devices",):
                    devices += 1
                    table = ("devices", devices)
                else:
                    table = name
            elif match := _TABLE.match(line):
                name = _dotted(match[1])
                nested = name[0] == "devices" and len(name) > 1 and devices >= 0
                table = ("devices", devices, *name[1:]) if nested else name
            elif match := _KEY.match(line):
                self.lines.setdefault((*table, *_dotted(match[1])), number)
                depth = max(_balance(match[2]), 0)
                continue
            else:
                continue
            self.lines.setdefault(table, number)

    def line(self, path: Path_) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Report:
    def __init__(self, index: _LineIndex) -> None:
        self.index = index
        self.problems: list[Problem] = []

    def __call__(self, path: Path_, message: str, *, warning: bool = False) -> None:
        self.problems.append(Problem(self.index.line(path), _where(path), message,
                                     "warning" if warning else "error"))

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)
