"""Video in, timestamped model-sized frames out."""

from highlighter.video.backends import choose_backend
from highlighter.video.probe import VideoInfo, probe
from highlighter.video.sampler import DECODERS, SAMPLING_MODES, STALL_TIMEOUT_S, FrameBatch, FrameSampler

__all__ = ["DECODERS", "SAMPLING_MODES", "STALL_TIMEOUT_S", "FrameBatch", "FrameSampler", "VideoInfo",
           "choose_backend", "probe"]
