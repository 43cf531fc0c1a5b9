"""The crowd track of a synthetic half: murmur with a slow drift, roars after goals and some cards, whistles,
and distractor roars (near misses, chants) at the rates stated in configs/crowd_audio.yaml."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from highlighter.config.files import config_dir, read_yaml
from highlighter.synth.timeline import REAL_HALF_S, SynthEvent

#: Control points of the loudness envelope per second (interpolated to the samples).
CONTROL_HZ = 50
#: Samples shaped per block of murmur noise.
BLOCK = 1 << 16


def load_crowd_stats() -> dict:
    """The crowd track's statistics (configs/crowd_audio.yaml)."""
    return read_yaml(config_dir() / "crowd_audio.yaml")


def _normal(rng: np.random.Generator, pair: list[float]) -> float:
    return float(rng.normal(pair[0], pair[1]))


def _uniform(rng: np.random.Generator, pair: list[float]) -> float:
    return float(rng.uniform(pair[0], pair[1]))


def _murmur(rng: np.random.Generator, count: int, rate: int) -> np.ndarray:
    """Unit-RMS crowd noise: white noise shaped to a pink band (about 80 Hz to 4 kHz), block by block."""
    out = np.empty(count, dtype=np.float32)
    freqs = np.fft.rfftfreq(BLOCK, 1 / rate)
    shape = np.where((freqs > 80) & (freqs < 4000), 1 / np.sqrt(np.maximum(freqs, 1) / 80), 0.0)
    for start in range(0, count, BLOCK):
        block = np.fft.irfft(np.fft.rfft(rng.standard_normal(BLOCK)) * shape, BLOCK)
        out[start:start + BLOCK] = (block / block.std())[:count - start]
    return out


def _swell(times: np.ndarray, start: float, gain_db: float, attack_s: float, decay_s: float) -> np.ndarray:
    """Extra power (linear, over the murmur's) of a roar starting at ``start``: a ramp, then a fade."""
    since = times - start
    shape = np.where(since < 0, 0.0, np.where(since < attack_s, since / attack_s,
                                              np.exp(-np.maximum(since - attack_s, 0) / decay_s)))
    return (10 ** (gain_db / 10) - 1) * shape


def crowd_track(rng: np.random.Generator, events: list[SynthEvent], duration_s: float, density: float,
                stats: dict, stadium_db: float) -> np.ndarray:
    """Mono float32 samples of one half at ``stats["sample_rate"]``."""
    rate = int(stats["sample_rate"])
    count = int(round(duration_s * rate))
    control = np.arange(int(duration_s * CONTROL_HZ) + 2) / CONTROL_HZ
    steps = rng.standard_normal(len(control)).cumsum()
    width = min(max(int(stats["drift_period_s"] * CONTROL_HZ), 1), len(control))
    drift = np.convolve(steps - steps.mean(), np.ones(width) / width, mode="same")
    drift *= stats["drift_db"] / max(float(np.abs(drift).max()), 1e-9)
    extra = np.zeros(len(control))
    for event in events:
        if event.label == "Goal":
            kind = stats["goal_roar"]
        elif "card" in event.label and rng.random() < stats["card_roar"]["share"]:
            kind = stats["card_roar"]
        else:
            continue
        extra += _swell(control, event.time_s + _uniform(rng, kind["delay_s"]), _normal(rng, kind["gain_db"]),
                        kind["attack_s"], kind["decay_s"])
    scale = duration_s / REAL_HALF_S
    near = stats["near_miss_roar"]
    for start in rng.uniform(0, duration_s, rng.poisson(near["per_half"] * scale * density)):
        extra += _swell(control, start, _normal(rng, near["gain_db"]), near["attack_s"], near["decay_s"])
    chant = stats["chant"]
    for start in rng.uniform(0, duration_s, rng.poisson(chant["per_half"] * scale)):
        inside = (control >= start) & (control < start + _uniform(rng, chant["duration_s"]))
        beat = 0.5 + 0.5 * np.sin(2 * np.pi * chant["beat_hz"] * control)
        extra += inside * (10 ** (_normal(rng, chant["gain_db"]) / 10) - 1) * beat
    level_db = stadium_db + drift + 10 * np.log10(1 + extra)
    sample_times = np.arange(count) / rate
    amplitude = np.interp(sample_times, control, 10 ** (level_db / 20)).astype(np.float32)
    track = _murmur(rng, count, rate) * amplitude
    whistle = stats["whistle"]
    for event in events:
        if event.label in whistle["labels"]:
            start = int(event.time_s * rate)
            length = min(int(_uniform(rng, whistle["duration_s"]) * rate), count - start)
            if length > 0:
                tone = np.sin(2 * np.pi * _uniform(rng, whistle["frequency_hz"]) * np.arange(length) / rate)
                track[start:start + length] += (np.sqrt(2) * 10 ** (_normal(rng, whistle["level_db"]) / 20)
                                                * tone).astype(np.float32)
    return np.clip(track, -1.0, 1.0)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """16-bit mono WAV of ``samples`` (floats in [-1, 1])."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path
