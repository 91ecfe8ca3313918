"""Errors raised by the store; every message names what was wrong and where.

- :class:`StoreError` — base of everything below (a :class:`contract.errors.DmiError`,
  so the command line shows it as one clear line).
  - :class:`StoreUnavailable` — the database cannot be opened or reached.
  - :class:`MigrationError` — the schema cannot be brought to this program's version
    (e.g. the database was written by a newer DMI Live).
  - :class:`InvalidData` — an argument or event is malformed for the store (bad role,
    unknown support point, a sample column the store cannot hold, ...).
    - :class:`InvalidEvent` — a session event cannot be applied as given.
  - :class:`NotFound` — a referenced row does not exist.
    - :class:`UnknownSession`, :class:`UnknownSet`, :class:`UnknownExercise`,
      :class:`UnknownChild`, :class:`UnknownUser`, :class:`UnknownFamilyLink`,
      :class:`UnknownDevice`
  - :class:`Conflict` — the row exists already with different content.
    - :class:`DuplicateUser`, :class:`ExerciseLocked`
"""

from __future__ import annotations

from contract.errors import DmiError


class StoreError(DmiError):
    """Base of every store error."""


class StoreUnavailable(StoreError):
    pass


class MigrationError(StoreError):
    pass


class InvalidData(StoreError):
    pass


class InvalidEvent(InvalidData):
    pass


class NotFound(StoreError):
    pass


class UnknownSession(NotFound):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"unknown session {session_id!r}")
        self.session_id = session_id


class UnknownSet(NotFound):
    def __init__(self, set_id: str) -> None:
        super().__init__(f"unknown set {set_id!r}")
        self.set_id = set_id


class UnknownExercise(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"unknown exercise {key!r} (not in the exercise catalog)")
        self.key = key


class UnknownChild(NotFound):
    def __init__(self, pseudonym: str) -> None:
        super().__init__(f"unknown child {pseudonym!r}")
        self.pseudonym = pseudonym


class UnknownUser(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"unknown user {username!r}")
        self.username = username


class UnknownFamilyLink(NotFound):
    def __init__(self, link_id: int) -> None:
        super().__init__(f"unknown family link {link_id}")
        self.link_id = link_id


class UnknownDevice(NotFound):
    def __init__(self, device: str) -> None:
        super().__init__(f"unknown device {device!r} (no samples or set-up recorded for it)")
        self.device = device


class Conflict(StoreError):
    pass


class DuplicateUser(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} exists already")
        self.username = username


class ExerciseLocked(Conflict):
    def __init__(self, key: str) -> None:
        super().__init__(f"exercise {key!r} is part of the built-in DMI catalog and not editable")
        self.key = key
