"""Tables of schema versions 1–4 that migration 5 converts and drops, frozen here so that
the migration steps before it build and fill what they always did.

Up to version 4 a sample was a row of ``samples`` ``(stream_id, seq, t, t_dev, v0 … v15)``
keyed by ``(stream_id, seq)``, the ``streams`` row of its (device, boot) saying which
device column each slot ``v<k>`` held; from version 2 on ``sample_spans`` had one row a
batch (its seq range and host times, widened by :data:`SPAN_PAD`). Nothing but
:mod:`store.migrations` (and the tests that build an old store) uses these.
"""

import sqlalchemy as sa

VALUE_SLOTS = 16
SPAN_PAD = 1e-3
"""Seconds a version-2 span was widened by on each side."""

metadata = sa.MetaData()

samples = sa.Table(
    "samples",
    metadata,
    sa.Column("stream_id", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("t", sa.Double, nullable=False),
    sa.Column("t_dev", sa.Double, nullable=False),
    *(sa.Column(f"v{i}", sa.Double, nullable=True) for i in range(VALUE_SLOTS)),
    sa.PrimaryKeyConstraint("stream_id", "seq", name="pk_samples"),
    sqlite_with_rowid=False,
)

sample_spans = sa.Table(
    "sample_spans",
    metadata,
    sa.Column("stream_id", sa.Integer, nullable=False),
    sa.Column("seq0", sa.BigInteger, nullable=False),
    sa.Column("seq1", sa.BigInteger, nullable=False),
    sa.Column("t_min", sa.Double, nullable=False),
    sa.Column("t_max", sa.Double, nullable=False),
    sa.PrimaryKeyConstraint("stream_id", "seq0", name="pk_sample_spans"),
    sqlite_with_rowid=False,
)
