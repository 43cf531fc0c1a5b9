"""Which video stream of a file is the match: one rule, used by every reader of a video (the probe, the
decoders, the audio's time origin), so none of them can pick another.

A file may carry more than one video stream: cover art (an attached picture, or a one-frame still muxed as a
normal track), a thumbnail track, a second camera. The match is the longest stream that is not a picture,
measured by a scan of its packets where there is a choice (a header's duration can be the whole file's: FFmpeg
gives every Matroska and MPEG-TS stream the file's duration), the first of equal ones.
"""

from __future__ import annotations

import av

#: Video streams that are pictures, not motion: cover art, thumbnail tracks, stills.
PICTURES = av.stream.Disposition.attached_pic | av.stream.Disposition.timed_thumbnails \
    | av.stream.Disposition.still_image


def motion_streams(container: av.container.InputContainer) -> list[av.VideoStream]:
    """The video streams of ``container`` that are not pictures, in file order."""
    return [stream for stream in container.streams.video if not stream.disposition & PICTURES]


def match_stream(container: av.container.InputContainer) -> av.VideoStream:
    """The match's video stream: the longest motion stream by its packets (the first of equals). Raises
    ``ValueError`` where the file has no motion stream (check with :func:`motion_streams` first)."""
    candidates = motion_streams(container)
    if len(candidates) < 2:
        return candidates[0]
    lengths = _packet_lengths(container.name, [stream.index for stream in candidates])
    return max(candidates, key=lambda stream: lengths[stream.index])  # max keeps the first of equals


def _packet_lengths(path: str, indices: list[int]) -> dict[int, tuple[float, int]]:
    """(seconds from the first packet's start to the last one's end, packet count) of each stream, from a
    demux of the file (no decoding) in a container of its own, so the caller's reading position stays."""
    first: dict[int, float] = {}
    end: dict[int, float] = {}
    counts = dict.fromkeys(indices, 0)
    with av.open(path) as container:
        try:
            for packet in container.demux(*(container.streams[index] for index in indices)):
                index = packet.stream.index
                if not packet.size:  # the demuxer's end-of-stream packet
                    continue
                counts[index] += 1
                if packet.pts is not None:
                    start = float(packet.pts * packet.time_base)
                    first[index] = min(first.get(index, start), start)
                    end[index] = max(end.get(index, start), start + float((packet.duration or 0) * packet.time_base))
        except av.error.FFmpegError:
            pass  # a damaged tail: compare what was read
    return {index: (end[index] - first[index] if index in first else 0.0, counts[index]) for index in indices}
