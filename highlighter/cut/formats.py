"""The names `highlight cut` accepts for its outputs and timelines (no imports: the CLI builds its options
from these without loading the library)."""

#: output formats: reels (mp4, mkv) and editor timelines
CUT_FORMATS = ("mp4", "mkv", "edl", "srt", "txt", "ffmeta")
#: what subtitles and chapters are timed against
CUT_TIMELINES = ("source", "reel")
#: how --labels captions are drawn
CAPTION_RENDERERS = ("auto", "drawtext", "opencv")
