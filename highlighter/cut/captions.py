"""Captions burnt into reel segments (``--labels``): FFmpeg's drawtext where FFmpeg has it and a font file
is found, else a caption image drawn with OpenCV (its built-in Hershey font needs no font file) and
overlaid by FFmpeg.

drawtext reads the caption from a text file with expansion off, so a label reaches the screen as its literal
text: no ``%{...}`` expansion, no backslash escapes, and no escaping layer to get wrong. File paths in the
filter graph are escaped for both of its levels (:func:`filter_value`)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from highlighter.cut.windows import Window
from highlighter.cut.timelines import event_title
from highlighter.video.encode import ffmpeg_binary

#: fonts tried when fontconfig does not answer (Debian's fonts-dejavu-core, fonts-liberation)
KNOWN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")


def caption_text(window: Window) -> str:
    """``Goal 1H 12:34`` (events of one window joined with `` · ``; one line, whatever the labels hold)."""
    return " · ".join(event_title(e) for e in window.events)


def filter_value(value: str) -> str:
    """``value`` as one option value in an FFmpeg filter graph: escaped for the option level (``\\ ' :``),
    then for the graph level (``\\ ' [ ] , ;``), as FFmpeg's "Notes on filtergraph escaping" describe."""
    return re.sub(r"([\\'\[\],;])", r"\\\1", re.sub(r"([\\':])", r"\\\1", value))


@functools.lru_cache(maxsize=1)
def drawtext_font() -> str | None:
    """A font file for FFmpeg's drawtext, or None when drawtext or a usable font is missing."""
    filters = subprocess.run([ffmpeg_binary(), "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    if not re.search(r"\sdrawtext\s", filters):
        return None
    candidates = []
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "sans:bold"], capture_output=True, text=True).stdout.strip()
        candidates.append(found)
    candidates += KNOWN_FONTS
    return next((f for f in candidates if f and Path(f).is_file()), None)


@dataclass(frozen=True)
class Caption:
    """How one segment's caption enters the filter graph: a drawtext filter, or an image input to overlay."""

    filter: str | None = None  # appended to the segment's video chain
    image: Path | None = None  # an extra input, overlaid bottom left


def font_size(height: int) -> int:
    """Caption text height for a video of ``height`` pixels."""
    return max(12, round(height / 22))


def drawtext_style(height: int) -> str:
    """drawtext's options for a caption in a ``height``-pixel video, all but its text: the font, white on a
    translucent black box, bottom left."""
    size = font_size(height)
    margin = max(8, size // 2)
    return (f"fontfile={filter_value(drawtext_font())}:fontsize={size}:fontcolor=white:box=1:boxcolor=black@0.6:"
            f"boxborderw={max(4, size // 3)}:x={margin}:y=h-th-{margin}")


def make_caption(text: str, width: int, height: int, folder: Path, number: int, renderer: str = "auto") -> Caption:
    """The caption of one segment; ``renderer`` is ``drawtext``, ``opencv`` or ``auto`` (drawtext if it can)."""
    font = drawtext_font() if renderer in ("auto", "drawtext") else None
    if renderer == "drawtext" and font is None:
        from highlighter.errors import HighlighterError

        raise HighlighterError("--labels with drawtext needs FFmpeg built with libfreetype and a font "
                               "(Debian: apt-get install fonts-dejavu-core)")
    if font is not None:
        text_file = folder / f"caption{number}.txt"
        text_file.write_text(text, encoding="utf-8")
        text_source = f"textfile={filter_value(str(text_file))}:expansion=none"
        return Caption(filter=f"drawtext={drawtext_style(height)}:{text_source}")
    image = folder / f"caption{number}.png"
    cv2.imwrite(str(image), caption_image(text, height))
    return Caption(image=image)


def caption_image(text: str, height: int) -> np.ndarray:
    """A BGRA image of ``text`` in white on a translucent black box, sized for a ``height``-pixel video."""
    text = text.replace("·", "-")  # the Hershey fonts are ASCII only
    size = font_size(height)
    scale = cv2.getFontScaleFromHeight(cv2.FONT_HERSHEY_SIMPLEX, size, 2)
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    pad = max(4, size // 3)
    image = np.zeros((text_h + baseline + 2 * pad, text_w + 2 * pad, 4), dtype=np.uint8)
    image[..., 3] = 153
    cv2.putText(image, text, (pad, pad + text_h), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255, 255), 2, cv2.LINE_AA)
    return image
