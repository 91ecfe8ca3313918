"""Exceptions and warnings raised by :mod:`analysis`.

The tree is small on purpose::

    AnalysisError                 base class; catch this to catch everything below
    ├── InvalidSignalError        a signal has the wrong shape, length, dtype or values
    │   └── SignalTooShortError   a signal is valid but too short for the requested measure
    └── InvalidParameterError     a keyword parameter is out of range (fs <= 0, band reversed, ...)

``InvalidSignalError`` and ``InvalidParameterError`` also derive from :class:`ValueError`,
so callers that only know the standard library still catch them. Every message names the
argument at fault and, where it helps, the sample index.

:class:`AnalysisWarning` flags results that are computed but questionable (for example
a resampling that had to bridge gaps in the recording).
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class of every error raised by the analysis package."""


class InvalidSignalError(AnalysisError, ValueError):
    """A signal argument has the wrong shape, length or values."""


class SignalTooShortError(InvalidSignalError):
    """A signal is well formed but has too few samples for the requested measure."""


class InvalidParameterError(AnalysisError, ValueError):
    """A keyword parameter is outside its documented range."""


class AnalysisWarning(UserWarning):
    """A result was computed but should be read with care."""
