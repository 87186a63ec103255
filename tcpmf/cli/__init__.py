"""The command line: one module per command group, loaded by :mod:`tcpmf.cli.main`.

:func:`main` is the ``tcpmf`` entry point; it needs the ``cli`` extra (typer, rich) and says so,
without a traceback, when a plain ``pip install tcpmf`` lacks it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


def main(argv: Sequence[str] | None = None) -> Any:
    """Entry point of the ``tcpmf`` command."""
    from tcpmf.core.extras import MissingExtraError, import_optional

    try:
        command_line = import_optional("tcpmf.cli.main", "the tcpmf command")
    except MissingExtraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    return command_line.main(argv)
