"""What an output path asks for: a folder (a path written with a trailing separator) or a file whose suffix
names its format. Checked before any work starts, so a run never writes bytes of one format under another's
name (PNG bytes called ``.jpg``, CSV called ``.txt``)."""

from __future__ import annotations

import os
from pathlib import Path

from highlighter.errors import HighlighterError

#: plot suffixes and the matplotlib format each writes
PLOT_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".svg": "svg", ".pdf": "pdf"}
#: scores suffixes: a NumPy archive or a CSV table
SCORES_SUFFIXES = (".npz", ".csv")


def names_folder(text: str) -> bool:
    """True when ``text`` ends with a path separator (``newdir/``): the user asks for a folder."""
    return any(sep and text.endswith(sep) for sep in (os.sep, os.altsep))


def output_target(text: str | None, *, folder_ok: bool = True) -> Path | None:
    """``text`` as an output path; one with a trailing separator is made as a folder (``folder_ok``) or refused
    (an option that writes one file)."""
    if text is None:
        return None
    path = Path(text)
    if names_folder(text):
        if not folder_ok:
            raise HighlighterError(f"{text}: names a folder, but this writes one file (give a file name)")
        path.mkdir(parents=True, exist_ok=True)
    return path


def plot_format(path: Path) -> str:
    """The matplotlib format ``path``'s suffix names, or a one-line error naming those it can be."""
    try:
        return PLOT_FORMATS[path.suffix.lower()]
    except KeyError:
        raise HighlighterError(f"{path}: a plot is written as {', '.join(PLOT_FORMATS)}; "
                               f"the suffix {path.suffix or '(none)'!r} names none of them") from None


def check_scores_suffix(path: Path) -> Path:
    """``path`` when its suffix is one the scores writer writes, else a one-line error."""
    if path.suffix.lower() not in SCORES_SUFFIXES:
        raise HighlighterError(f"{path}: scores are written as {' or '.join(SCORES_SUFFIXES)}; "
                               f"the suffix {path.suffix or '(none)'!r} names neither")
    return path
