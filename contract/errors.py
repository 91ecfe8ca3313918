"""The root of DMI Live's errors, and the one a message or topic that breaks the wire
contract raises.

Every package's own errors may derive from :class:`ContractError` (the root); a
:class:`SchemaError` names the part of a message at fault (``rows[3][1]``, ``data.text``,
``payload``). It is deliberately not a ``ValueError``: whatever the bytes, a decoder
raises this and nothing else, and a consumer catches exactly this to count a reject.
"""

from __future__ import annotations


class ContractError(Exception):
    """The root error of DMI Live."""


class SchemaError(ContractError):
    """A topic or payload does not follow the wire schema; ``field`` names the part."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
