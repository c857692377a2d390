"""TOML reading: ``tomllib`` (``tomli`` before Python 3.11), imported by the functions that read a TOML text,
so a run without a config file does not import the TOML parser."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["tomllib"]
