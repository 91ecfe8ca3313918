"""Errors the command line turns into one clear line and a non-zero exit.

- :class:`DmiError` — base of everything a user can fix (from :mod:`contract.errors`).
  - :class:`ConfigError` — a settings or room file is missing, unreadable or invalid.
  - :class:`BrokerError` — the MQTT broker cannot be started or reached (port in use, …).
  - :class:`UsageError` — a command-line argument is invalid.
"""


from contract.errors import DmiError

__all__ = ["BrokerError", "ConfigError", "DmiError", "UsageError"]


class ConfigError(DmiError):
    pass


class BrokerError(DmiError):
    pass


class UsageError(DmiError):
    pass
