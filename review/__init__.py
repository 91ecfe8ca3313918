"""Recorded sessions without Dash: replay data and views, per-set metrics and progress,
exports and PDF reports, over the store.

Who may see a record is decided in :mod:`access`; :mod:`dashboard` only renders these."""
