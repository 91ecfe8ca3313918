"""Table definitions (SQLAlchemy Core) — the current schema, as the last migration leaves it.

Times are float seconds since the epoch (host clock) unless named ``t_dev`` (device
clock). Samples are stored a batch to a row (``sample_blocks``, the columns packed: see
:mod:`store.blocks`); the ``streams`` row of a (device, boot) lists every column that
boot has sent, in first-seen order (what a read of the device returns).

Changing a table here needs a new step in :mod:`store.migrations` (see there).
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from contract.vocab import OUTCOME_MEASURES, QUALITIES, REP_SOURCES, ROLES, SUPPORT_POINTS

REP_SENSITIVITIES = ("fewer", "normal", "more")
"""Steps of the rep counter's sensitivity control (``analysis.repsettings.Sensitivity``)."""
VALUE_SLOTS = 16
"""Distinct value columns a (device, boot) may have; matches ``contract.MAX_COLUMNS``."""


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.Double
Name = sa.String(64)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied", Time, nullable=False),
)

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", Name, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("key", Name, nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.UniqueConstraint("site_id", "key"),
)


def devices_table(meta: sa.MetaData, name: str = "devices") -> sa.Table:
    """A device is (site, room, device id): two rooms may each have a ``board-1``. Rows
    with no room are from before that (or from a file import without one)."""
    return sa.Table(
        name,
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", Name, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=True),
        sa.Column("placement", Name, nullable=False, server_default=""),
        sa.Column("calibration", Json, nullable=True),
        sa.UniqueConstraint("room_id", "name", name="uq_devices_room_id_name"),
        *([sa.Index("ix_devices_name", "name")] if name == "devices" else []),
    )


devices = devices_table(metadata)

streams = sa.Table(
    "streams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device_id", sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("boot", Name, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("cols", Json, nullable=False),
    sa.UniqueConstraint("device_id", "boot"),
)

sample_blocks = sa.Table(
    "sample_blocks",
    metadata,
    # one row per stored batch (or the part of a batch not stored before): its columns
    # packed as little-endian float64 arrays, one after the other (store.blocks)
    sa.Column("device_id", sa.Integer, nullable=False),  # devices.id (no FK: see v4)
    sa.Column("boot", Name, nullable=False),
    sa.Column("seq0", sa.BigInteger, nullable=False),  # seq of the first row
    sa.Column("n", sa.Integer, nullable=False),  # rows, seq0 … seq0 + n - 1
    sa.Column("t_dev", Time, nullable=False),  # the batch's: row i at t_dev + i * period
    sa.Column("t_host", Time, nullable=False),  # host time of device time t_dev
    sa.Column("period", sa.Double, nullable=False),
    sa.Column("cols", sa.String(1100), nullable=False),  # the packed columns' names, "a,b,…"
    sa.Column("t_min", Time, nullable=False),  # the rows' host times: [t_min, t_max]
    sa.Column("t_max", Time, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.PrimaryKeyConstraint("device_id", "boot", "seq0"),
    # time windows: blocks span at most store.blocks.BLOCK_SPAN seconds of host time, so
    # a window is a range of t_min
    sa.Index("ix_sample_blocks_device_id_t_min", "device_id", "t_min", "t_max"),
)

gaps = sa.Table(
    "gaps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device", Name, nullable=False),
    sa.Column("boot", Name, nullable=False),
    sa.Column("t_from", Time, nullable=False),
    sa.Column("t_to", Time, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False, server_default=""),
    sa.Column("site", Name, nullable=True),  # the device's place (none before schema 4)
    sa.Column("room", Name, nullable=True),
    sa.Index("ix_gaps_device_t_from", "device", "t_from"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("t", Time, nullable=False),
    sa.Column("topic", sa.String(512), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # at most QUARANTINE_PAYLOAD bytes
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=True),  # the payload's size as it came
)

QUARANTINE_PAYLOAD = 4096
"""Bytes of a rejected payload the quarantine keeps (the rest is cut; ``size`` says how
much came)."""
QUARANTINE_ROWS = 10_000
"""Rejects the quarantine keeps; older ones go, so junk cannot fill the disk."""

children = sa.Table(
    "children",
    metadata,
    sa.Column("id", Name, primary_key=True),  # the pseudonym used on the wire
    sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("created", Time, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", Name, nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(512), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created", Time, nullable=False),
    sa.CheckConstraint(_in("role", ROLES), name="role"),
)

family_links = sa.Table(
    "family_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(256), nullable=False, unique=True),
    sa.Column("child_id", sa.ForeignKey("children.id"), nullable=False, index=True),
    sa.Column("created_by", Name, nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("expires", Time, nullable=False),
    sa.Column("revoked_at", Time, nullable=True),
)

exercises = sa.Table(
    "exercises",
    metadata,
    sa.Column("key", Name, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("domain", sa.String(32), nullable=False),
    sa.Column("default_reps", sa.Integer, nullable=False),
    sa.Column("signal_profile", Name, nullable=False),
    sa.Column("editable", sa.Boolean, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Name, primary_key=True),
    sa.Column("child_id", sa.ForeignKey("children.id"), nullable=False),
    sa.Column("room_id", sa.ForeignKey("rooms.id"), nullable=False),
    sa.Column("therapist", Name, nullable=True),
    sa.Column("started", Time, nullable=False),
    sa.Column("ended", Time, nullable=True),
    sa.Index("ix_sessions_child_id_started", "child_id", "started"),
    sa.Index("ix_sessions_started", "started"),
)

sets = sa.Table(
    "sets",
    metadata,
    sa.Column("id", Name, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("exercise_key", sa.ForeignKey("exercises.key"), nullable=False),
    sa.Column("surface", Name, nullable=False),
    sa.Column("support", sa.String(16), nullable=False),
    sa.Column("planned_reps", sa.Integer, nullable=False),
    sa.Column("started", Time, nullable=False),
    sa.Column("ended", Time, nullable=True),
    sa.Column("quality", sa.String(16), nullable=True),
    sa.CheckConstraint(_in("quality", QUALITIES), name="quality"),
    sa.Index("ix_sets_session_id_started", "session_id", "started"),
)

reps = sa.Table(
    "reps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", Name, nullable=False, unique=True),
    sa.Column("set_id", sa.ForeignKey("sets.id"), nullable=False),
    sa.Column("t", Time, nullable=False),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("confidence", sa.Double, nullable=True),
    sa.Column("peak", sa.Double, nullable=True),
    sa.Column("revoked_by", Name, nullable=True),
    sa.CheckConstraint(_in("source", REP_SOURCES), name="source"),
    sa.Index("ix_reps_set_id_t", "set_id", "t"),
)

annotations = sa.Table(
    "annotations",
    metadata,
    sa.Column("id", Name, primary_key=True),  # the event id
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("set_id", sa.ForeignKey("sets.id"), nullable=True),
    sa.Column("t", Time, nullable=False),
    sa.Column("author", Name, nullable=True),
    sa.Column("tag", Name, nullable=True),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("family_visible", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_annotations_session_id_t", "session_id", "t"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", Name, primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("t", Time, nullable=False),
    sa.Column("site", Name, nullable=False),
    sa.Column("room", Name, nullable=False),
    sa.Column("session_id", Name, nullable=True),
    sa.Column("set_id", Name, nullable=True),
    sa.Column("author", Name, nullable=True),
    sa.Column("data", Json, nullable=False),
    sa.Column("received", Time, nullable=False),
    sa.Index("ix_events_session_id_t", "session_id", "t"),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("t", Time, nullable=False),
    sa.Column("who", Name, nullable=False),
    sa.Column("action", Name, nullable=False),
    sa.Column("child_id", Name, nullable=True),  # no foreign key: the log outlives rows
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_audit_child_id_t", "child_id", "t"),
    sa.Index("ix_audit_t", "t"),
)

sign_ins = sa.Table(
    "sign_ins",
    metadata,
    # one row per staff sign-in; the session cookie carries a random token whose SHA-256
    # is the id, so a copy of the database cannot be turned into a working cookie
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False, server_default=""),
    sa.Column("created", Time, nullable=False),
    sa.Column("last_seen", Time, nullable=False),
    sa.Column("revoked_at", Time, nullable=True),
)

sign_in_throttle = sa.Table(
    "sign_in_throttle",
    metadata,
    # failed sign-ins per key ("pair:<user>|<address>", "addr:<address>"), shared by every
    # dashboard process; rows quiet for a while are deleted
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure", Time, nullable=False, index=True),
    sa.Column("blocked_until", Time, nullable=False),
)

kiosk_links = sa.Table(
    "kiosk_links",
    metadata,
    # wall-screen links: the signed token in the URL names this id, its room and expiry
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("room", Name, nullable=False),
    sa.Column("created_by", Name, nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("expires", Time, nullable=False),
    sa.Column("revoked_at", Time, nullable=True),
)

derived_series = sa.Table(
    "derived_series",
    metadata,
    # a signal worked out once per session from a device's samples (store.derived)
    sa.Column("session_id", Name, primary_key=True),
    sa.Column("device_id", sa.Integer, primary_key=True),  # devices.id (no FK, as blocks)
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("meta", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created", Time, nullable=False),
)

rep_calibrations = sa.Table(
    "rep_calibrations",
    metadata,
    # what the rep counter learned for one child and exercise (analysis.repsettings
    # Calibration as JSON; NULL: nothing learned yet) and the therapist's sensitivity step
    sa.Column("child_id", sa.ForeignKey("children.id"), primary_key=True),
    sa.Column("exercise_key", sa.ForeignKey("exercises.key"), primary_key=True),
    sa.Column("calibration", sa.Text, nullable=True),
    sa.Column("sensitivity", sa.String(8), nullable=False, server_default="normal"),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint(_in("sensitivity", REP_SENSITIVITIES), name="sensitivity"),
)

# ----------------------------------------------------------------------------- blocks (v7)
# An intensive block: a child's plan (dates as ISO "YYYY-MM-DD" text, local days), the
# exercises planned for every session, goals with GAS levels, outcome scores.

blocks = sa.Table(
    "blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("child_id", sa.ForeignKey("children.id"), nullable=False, index=True),
    sa.Column("start_date", sa.String(10), nullable=False),
    sa.Column("end_date", sa.String(10), nullable=False),
    sa.Column("sessions_per_day", sa.Integer, nullable=False),
    sa.Column("session_minutes", sa.Integer, nullable=False),
    sa.Column("weekdays", sa.String(7), nullable=False),  # ISO weekdays, "12345" = Mon-Fri
    sa.Column("created_by", Name, nullable=False),
    sa.Column("created", Time, nullable=False),
    sa.Column("updated", Time, nullable=False),
)

block_exercises = sa.Table(
    "block_exercises",
    metadata,
    sa.Column("block_id", sa.ForeignKey("blocks.id"), nullable=False),
    sa.Column("exercise_key", sa.ForeignKey("exercises.key"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("sets", sa.Integer, nullable=False),
    sa.Column("reps", sa.Integer, nullable=False),
    sa.Column("target_support", sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint("block_id", "exercise_key"),
    sa.CheckConstraint(_in("target_support", SUPPORT_POINTS), name="target_support"),
)

block_goals = sa.Table(
    "block_goals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("block_id", sa.ForeignKey("blocks.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.String(300), nullable=False),  # in the child's own terms
    sa.Column("gas_start", sa.Integer, nullable=True),
    sa.Column("gas_middle", sa.Integer, nullable=True),
    sa.Column("gas_end", sa.Integer, nullable=True),
    *(sa.CheckConstraint(f"gas_{stage} BETWEEN -2 AND 2", name=f"gas_{stage}")
      for stage in ("start", "middle", "end")),
)

block_outcomes = sa.Table(
    "block_outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("block_id", sa.ForeignKey("blocks.id"), nullable=False, index=True),
    sa.Column("measure", sa.String(16), nullable=False),
    sa.Column("score", sa.Double, nullable=False),
    sa.Column("taken", sa.String(10), nullable=False),
    sa.Column("entered_by", Name, nullable=False),
    sa.Column("entered", Time, nullable=False),
    sa.CheckConstraint(_in("measure", tuple(OUTCOME_MEASURES)), name="measure"),
)
