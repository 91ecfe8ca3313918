"""``docs/wire.md`` says what the code does: every message's fields, by their wire names,
required exactly when the code requires them, and every example decodes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from contract import DeviceStatus, Event, LiveFrame, SampleBatch, decode_as

DOC = Path(__file__).parents[2] / "docs" / "wire.md"
MESSAGES = {"SampleBatch": SampleBatch, "DeviceStatus": DeviceStatus, "Event": Event,
            "LiveFrame": LiveFrame}


def documented_fields(name: str) -> dict[str, bool]:
    """``{wire name: required}`` from the table after ``<!-- fields: name -->``."""
    text = DOC.read_text()
    table = text.split(f"<!-- fields: {name} -->", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[3:] if line.startswith("|")]
    out = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        out[cells[0].strip("`")] = cells[2] == "yes"
    return out


@pytest.mark.parametrize("name", list(MESSAGES))
def test_the_document_lists_every_field_and_whether_it_is_required(name: str) -> None:
    fields = msgspec.structs.fields(MESSAGES[name])
    in_code = {f.encode_name: f.required for f in fields}
    assert documented_fields(name) == in_code


def test_every_example_in_the_document_decodes() -> None:
    examples = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)
    kinds = []
    for example in examples:
        data = json.loads(example)
        cls = (LiveFrame if "rows" in data and "period" not in data else SampleBatch
               if "rows" in data else DeviceStatus if "state" in data else Event)
        decode_as(cls, example.encode())
        kinds.append(cls)
    assert set(kinds) == set(MESSAGES.values())
