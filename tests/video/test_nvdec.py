"""GPU decoding (issue 23), checked on machines without a GPU: when ``auto`` decodes on NVDEC, and that NVDEC
asked for where no CUDA device opens gives PyAV's samples after one warning (on a machine with an NVIDIA GPU the
same test checks NVDEC's samples against PyAV's)."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from av.codec.hwaccel import hwdevices_available

from highlighter.hardware import nvidia_driver_present
from highlighter.video.nvdec import NVDEC_MIN_PIXELS, nvdec_available, nvdec_unfit, takes_nvdec
from highlighter.video.probe import probe
from tests.support import HOLE, OFFSET, PLAIN, open_sampler, sample


def test_finding_3_auto_decodes_on_nvdec_only_with_a_gpu_and_frames_large_enough(clip):
    small = probe(clip("plain.mp4", **PLAIN), scan_packets=True)  # H.264 4:2:0, 160x120
    hd = replace(small, width=1280, height=720)
    assert hd.width * hd.height >= NVDEC_MIN_PIXELS > small.width * small.height
    assert takes_nvdec("auto", hd, gpu=True)
    assert not takes_nvdec("auto", small, gpu=True)  # small frames: the CPU's threads win
    assert not takes_nvdec("auto", hd, gpu=False)
    assert not takes_nvdec("auto", hd, keyframes_only=True, gpu=True)
    for unfit, words in ((replace(hd, codec="prores"), "no prores decoder"),
                         (replace(hd, pixel_format="yuv444p"), "yuv444p")):
        assert words in nvdec_unfit(unfit)
        assert not takes_nvdec("auto", unfit, gpu=True)
    assert takes_nvdec("nvdec", small, gpu=False)  # asked for: tried, and falls back if need be
    assert not any(takes_nvdec(requested, hd, gpu=True) for requested in ("pyav", "decord"))  # CPU decoders stay
    # here: a GPU where an NVIDIA driver is loaded (PyAV's wheels have CUDA decoding built in)
    assert "cuda" in hwdevices_available() and nvdec_available() == bool(nvidia_driver_present())
    if not nvdec_available():  # what a sampler on this machine does with a 720p file
        assert open_sampler(clip("hd.mp4", seconds=2, width=1280, height=720), size=64).decoder == "pyav"


def test_finding_3_nvdec_gives_pyavs_samples_and_falls_back_to_pyav_without_a_device(clip, caplog):
    caplog.set_level(logging.WARNING)  # whatever level an earlier command's --quiet left the root logger at
    for settings in (PLAIN, HOLE, OFFSET):
        path = clip("nvdec.mp4", **settings)
        caplog.clear()
        times, images, frames = sample(path, decoder="nvdec")
        fallback = [r.getMessage() for r in caplog.records if "instead of nvdec" in r.getMessage()]
        expected_times, expected_images, expected_frames = sample(path, decoder="pyav")
        np.testing.assert_array_equal(times, expected_times)
        assert frames == expected_frames
        np.testing.assert_array_equal(images, expected_images)
        if not nvdec_available():
            assert len(fallback) == 1 and "no CUDA device" in fallback[0], fallback
