"""Errors the command line turns into one clear line and a non-zero exit.

- :class:`DmiError` — base of everything a user can fix.
  - :class:`ConfigError` — a settings or room file is missing, unreadable or invalid.
  - :class:`BrokerError` — the MQTT broker cannot be started or reached (port in use, …).
  - :class:`UsageError` — a command-line argument is invalid.
"""


class DmiError(Exception):
    """A problem the user can fix; the message says what and where."""


class ConfigError(DmiError):
    pass


class BrokerError(DmiError):
    pass


class UsageError(DmiError):
    pass
