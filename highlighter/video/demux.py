"""A stream's packets read the way the ffmpeg tool reads them, so a damaged file gives what FFmpeg decodes: where
the demuxer loses its footing in unreadable bytes (an MPEG-TS out of sync answers EAGAIN) it is asked again and
resumes at the next packet it finds; any other read error ends the stream there. Also: whether a file ends
inside a packet, as a copy of a file still being written does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import av

#: Unreadable stretches in a row after which reading stops (the rest of the file is garbage). Each retry moves the
#: demuxer on (MPEG-TS searches up to 64 KiB for its sync byte), so this bounds what a file of garbage costs.
MAX_RESYNCS_IN_A_ROW = 1000
#: The transport packet sizes FFmpeg's MPEG-TS demuxer reads: plain, M2TS (a 4-byte timecode before each) and
#: with 16 bytes of error correction after each. A whole recording is a whole number of them.
TS_PACKET_SIZES = (188, 192, 204)


@dataclass
class Reading:
    """What reading a stream met: stretches of unreadable bytes skipped, and whether its last packet was cut
    short (flagged corrupt: it holds less than it should)."""

    resyncs: int = 0
    last_cut_short: bool = False


def packets(container: av.container.InputContainer, stream: av.VideoStream, reading: Reading) -> Iterator[av.Packet]:
    """The packets of ``stream`` in file order, without PyAV's empty end-of-stream packets (decoders are
    flushed by their callers); what was skipped is noted in ``reading``."""
    in_a_row = 0
    while True:
        try:
            for packet in container.demux(stream):
                in_a_row = 0
                if packet.size:
                    reading.last_cut_short = packet.is_corrupt
                    yield packet
            return
        except BlockingIOError:  # av.error.BlockingIOError (EAGAIN): resume at the next readable packet
            reading.resyncs += 1
            in_a_row += 1
            if in_a_row >= MAX_RESYNCS_IN_A_ROW:
                return
        except av.error.FFmpegError:  # unreadable from here on: what was read stands
            return


def ends_cut_off(container: av.container.InputContainer, reading: Reading) -> bool:
    """Whether the file read (to its end) stops inside a packet, as a copy of a file still being written or an
    interrupted recording does: its last packet cut short (fragmented MP4), or an MPEG-TS that is no whole
    number of transport packets."""
    if reading.last_cut_short:
        return True
    return container.format.name == "mpegts" and all(container.size % size for size in TS_PACKET_SIZES)
