"""Reading JSON that another program wrote (events files, checkpoint metadata, SoccerNet labels).

Strict where Python's ``json`` is lenient: ``NaN`` and ``Infinity`` are not JSON and are refused, as are files
larger than a bound (read in one bounded piece, so a FIFO or ``/dev/zero`` cannot make it read forever),
nesting deeper than the interpreter can parse, integers with thousands of digits and text that is not UTF-8.
Every failure is one line naming the file. (A number too large for a double, ``1e400``, reads as infinity:
the schema of each file, ``highlighter.config.schema``, refuses non-finite numbers where it expects one.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from highlighter.errors import HighlighterError
from highlighter.limits import MAX_JSON_BYTES


class JSONFileError(HighlighterError):
    """A JSON file is missing, too large or malformed."""


class _NotJSON(ValueError):
    """A value Python's parser accepts but JSON does not have."""


def _refuse_constant(name: str) -> float:
    raise _NotJSON(f"{name} is not a JSON number")


def parse_json(data: bytes, where: str, error: type[HighlighterError] = JSONFileError) -> Any:
    """The JSON document in ``data`` (read from ``where``, a file or a zip member), or ``error`` with one line."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise error(f"{where}: not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise error(f"{where}: malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except _NotJSON as exc:
        raise error(f"{where}: malformed JSON ({exc})") from None
    except RecursionError:
        raise error(f"{where}: malformed JSON (nested too deeply)") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise error(f"{where}: malformed JSON ({str(exc).split(':')[0]})") from None


def read_json(path: str | Path, error: type[HighlighterError] = JSONFileError, limit: int = MAX_JSON_BYTES) -> Any:
    """The JSON document in the file ``path``, at most ``limit`` bytes, or ``error`` with one line."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise error(f"{path}: larger than {limit >> 20} MiB: not a file this reads")
    return parse_json(data, str(path), error)
