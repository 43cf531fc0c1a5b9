"""The output formats `highlight cut` writes (no imports: the CLI builds its options from this without
loading the library; its timelines and caption renderers are settings, in highlighter.config.settings)."""

#: output formats: reels (mp4, mkv) and editor timelines
CUT_FORMATS = ("mp4", "mkv", "edl", "srt", "txt", "ffmeta")
