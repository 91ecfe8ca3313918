"""Who the audit log names for a change made from the command line."""

from __future__ import annotations

import getpass
import os


def cli_actor() -> str:
    """``cli:<login name>`` (the user id where the system knows no name)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"[:64]
