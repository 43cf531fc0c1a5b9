"""Video in, timestamped model-sized frames out."""

from highlighter.video.backends import choose_backend
from highlighter.video.probe import VideoInfo, probe
from highlighter.video.sampler import DECODERS, SAMPLING_MODES, FrameBatch, FrameSampler, decode_together

__all__ = ["DECODERS", "SAMPLING_MODES", "FrameBatch", "FrameSampler", "VideoInfo", "decode_together",
           "choose_backend", "probe"]
