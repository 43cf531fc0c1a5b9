"""Decoding on an NVIDIA GPU's video engine (NVDEC) through the CUDA hardware acceleration that PyAV's own
FFmpeg is built with (no other dependency), and the per-file choice of it.

``NvdecBackend`` is PyAV's backend with another way of opening the file: frames decode into GPU memory and stay
there (``is_hw_owned``); only the sampled frames (one in 25 at 1 fps) are downloaded, by the same swscale pass as
on the CPU (PyAV's reformatter transfers a GPU frame before scaling it), so the timeline code is PyAV's and the
samples are the CPU decoder's (a conforming H.264/HEVC decoder's pictures are bit-exact by the standard). A codec
NVDEC lacks decodes on the CPU inside FFmpeg; where no CUDA device opens, the sampler decodes with PyAV.

``auto`` takes NVDEC only where an NVIDIA driver is loaded, for exact sampling (key frames alone are cheap on
the CPU) of NVDEC's formats at ``NVDEC_MIN_PIXELS`` or more (small frames are published to decode slower through
NVDEC than on CPU threads, for its per-frame launch and copy costs). The size threshold is a starting point not
measured here (no GPU on the development machines): ``benchmarks/bench_gpu_decode.py`` measures it.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

import av
from av.codec.hwaccel import HWAccel, hwdevices_available

from highlighter.hardware import nvidia_driver_present
from highlighter.video.backends import BACKENDS, Backend, PyAVBackend, Untrusted
from highlighter.video.probe import VideoInfo

#: Codecs NVDEC decodes (NVIDIA's support matrix, Turing and later).
NVDEC_CODECS = frozenset({"h264", "hevc", "av1", "vp9", "vp8", "mpeg2video", "mpeg4", "vc1"})
#: 4:2:0 pictures: NVDEC has no H.264 4:2:2/4:4:4 and no 10-bit H.264 (FFmpeg would decode those on the CPU).
NVDEC_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p", "nv12", "yuv420p10le", "p010le"})
#: ``auto`` decodes on NVDEC from this many pixels per frame (1280x720; unmeasured, see the module docstring).
NVDEC_MIN_PIXELS = 1280 * 720


class NvdecBackend(PyAVBackend):
    """PyAV decoding on NVDEC (see the module docstring)."""

    name = "nvdec"

    def _open(self) -> av.container.InputContainer:
        try:  # the file was probed already: a failure here is the device's
            return av.open(str(self.path), hwaccel=HWAccel("cuda", allow_software_fallback=True, is_hw_owned=True))
        except av.error.FFmpegError as exc:
            raise Untrusted(f"no CUDA device for hardware decoding ({exc.strerror or exc})") from None


#: Every backend by its ``--decoder`` name (a view: the CPU backends are looked up in ``BACKENDS`` as they are then).
DECODER_BACKENDS: Mapping[str, type[Backend]] = ChainMap({NvdecBackend.name: NvdecBackend}, BACKENDS)


def nvdec_available() -> bool:
    """Whether an NVIDIA driver is loaded and PyAV's FFmpeg has CUDA decoding (read without opening the device)."""
    return bool(nvidia_driver_present()) and "cuda" in hwdevices_available()


def nvdec_unfit(info: VideoInfo) -> str | None:
    """Why NVDEC cannot decode ``info``'s file itself (its codec or pictures), or None."""
    if info.codec not in NVDEC_CODECS:
        return f"NVDEC has no {info.codec} decoder"
    if info.pixel_format not in NVDEC_PIXEL_FORMATS:
        return f"NVDEC does not decode {info.pixel_format} pictures"
    return None


def takes_nvdec(requested: str, info: VideoInfo, keyframes_only: bool = False, gpu: bool | None = None) -> bool:
    """Whether ``info``'s file decodes on NVDEC given the ``--decoder`` value: ``nvdec`` asked for is tried on any
    file (where the device does not open, the sampler falls back to PyAV with a warning); ``auto`` takes it where
    ``gpu`` (default: :func:`nvdec_available`) and the file suits it (see the module docstring). Elsewhere
    :func:`~highlighter.video.backends.choose_backend` chooses."""
    if requested == NvdecBackend.name:
        return True
    return (requested == "auto" and not keyframes_only and nvdec_unfit(info) is None
            and info.width * info.height >= NVDEC_MIN_PIXELS and (nvdec_available() if gpu is None else gpu))
