"""The wire contract: topics, messages, the shared vocabulary, one ``decode``, the root error.

The bottom package: every other package imports it, it imports none of them. The wire
schema it implements is documented for device makers in ``docs/wire.md`` (tested against
this code: ``tests/contract/test_wire_doc.py``).
"""

from contract.codec import (
    decode,
    decode_as,
    decode_batch,
    decode_event,
    decode_live,
    decode_status,
)
from contract.derived import Note, RoomState, SwaySnapshot, Tilt, decode_room_state
from contract.errors import ContractError, DmiError, SchemaError
from contract.messages import (
    LIVE_COLUMNS,
    MAX_COLUMNS,
    MAX_DATA_DEPTH,
    MAX_LIVE_ROWS,
    MAX_ROWS,
    DeviceStatus,
    Event,
    LiveFrame,
    Message,
    SampleBatch,
)
from contract.topics import (
    TOPIC_ROOT,
    Topic,
    derived_topic,
    events_topic,
    live_topic,
    parse_topic,
    samples_topic,
    status_topic,
    subscription,
)
from contract.vocab import (
    EVENT_TYPES,
    KINDS,
    MAX_SEQ,
    MAX_TEXT,
    SCHEMA_VERSION,
    STATES,
    Kind,
    State,
)

__all__ = [
    "EVENT_TYPES", "KINDS", "LIVE_COLUMNS", "MAX_COLUMNS", "MAX_DATA_DEPTH", "MAX_LIVE_ROWS",
    "MAX_ROWS", "MAX_SEQ", "MAX_TEXT", "SCHEMA_VERSION", "STATES", "TOPIC_ROOT",
    "ContractError", "DeviceStatus", "DmiError", "Event", "Kind", "LiveFrame", "Message",
    "Note", "RoomState", "SampleBatch", "SchemaError", "State", "SwaySnapshot", "Tilt",
    "Topic", "decode", "decode_as", "decode_batch", "decode_event", "decode_live",
    "decode_room_state", "decode_status", "derived_topic", "events_topic", "live_topic",
    "parse_topic", "samples_topic", "status_topic", "subscription",
]
