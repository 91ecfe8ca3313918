"""The root of DMI Live's errors, and the one a message or topic that breaks the wire
contract raises.

- :class:`DmiError` — the root: a problem a person can fix, the message says what and
  where; every package's own errors derive from it (the command line turns any of them
  into one clear line and a non-zero exit).
  - :class:`ContractError` — a topic or message breaks the wire contract.
    - :class:`SchemaError` — names the part of a message at fault (``rows[3][1]``,
      ``data.text``, ``payload``).

A :class:`SchemaError` is deliberately not a ``ValueError``: whatever the bytes, a decoder
raises this and nothing else, and a consumer catches exactly this to count a reject.
"""

from __future__ import annotations


class DmiError(Exception):
    """A problem the user can fix; the message says what and where."""


class ContractError(DmiError):
    """A topic or message breaks the wire contract."""


class SchemaError(ContractError):
    """A topic or payload does not follow the wire schema; ``field`` names the part."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
