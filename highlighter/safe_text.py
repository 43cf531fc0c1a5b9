"""Text from outside (event labels, a checkpoint's class names, file names) made fit for a line-based output
(EDL, SRT, YouTube chapters, FFmetadata, CSV, a burnt-in caption): one line, so it cannot end its record
and start another, and nothing a reader would stop at or hide."""

from __future__ import annotations

import unicodedata

#: Unicode categories that never belong in one line of text: control characters (NUL, CR, LF, VT, FF, NEL,
#: ...), format characters (bidirectional overrides, zero-width), line and paragraph separators, surrogates
NOT_IN_A_LINE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def one_line(text: str) -> str:
    """``text`` as one line: each run of control characters, line breaks and whitespace becomes one space,
    and the ends are trimmed."""
    return " ".join("".join(" " if unicodedata.category(c) in NOT_IN_A_LINE else c for c in text).split())
