"""Pictures in SDR BT.709 whatever colour the video was made in: HDR (HDR10's PQ, HLG) is tone-mapped and
wide-gamut colour (BT.2020, Display P3) brought into BT.709, so the model sees the levels it was trained on
(PQ read as SDR puts white at half level and washes the pitch out).

The decoder's swscale turns the stored YUV into RGB with the stream's own matrix and range; this module does
the rest in linear light, on the model-sized picture: the transfer function's inverse (SMPTE ST 2084 for PQ,
BT.2100's inverse OETF and OOTF on a 1000-nit display for HLG), the primaries' conversion, a highlight roll-off
and BT.1886's display gamma. Linear 1.0 is SDR white at 100 nits, the reference white of FFmpeg's tonemap
filter (and zscale's default): SDR material carried in PQ comes back at its own levels, and brighter
highlights roll off smoothly above ``KNEE`` instead of clipping. (FFmpeg 8's colour-managed swscale maps
BT.2408's 203-nit HDR reference white to SDR white instead, which left 100-nit white at 189 of 255.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: ITU-T H.273 code points (AVFrame.color_trc, color_primaries) under FFmpeg's names; 2 is "unspecified".
TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
             13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020",
             11: "smpte431", 12: "smpte432"}
UNSPECIFIED = (0, 2)

#: HDR transfers, and what people call them.
HDR_TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}
#: Display gamma of SDR transfers other than BT.709's 2.4 (BT.1886).
SDR_GAMMAS = {"gamma22": 2.2, "iec61966-2-1": 2.2, "gamma28": 2.8, "linear": 1.0}
DISPLAY_GAMMA = 2.4
SDR_WHITE_NITS = 100.0
#: HDR light above this share of SDR white rolls off towards white (slope 1 at the knee, never clipping).
KNEE = 0.8

#: (x, y) of the red, green and blue primaries of BT.709 and of the wide gamuts; every one has a D65 white.
CHROMATICITIES = {
    "bt709": ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)),
    "bt2020": ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)),
    "smpte432": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)),  # Display P3
}
D65 = (0.3127, 0.3290)
WIDE_GAMUTS = CHROMATICITIES.keys() - {"bt709"}


def transfer_name(code: int) -> str:
    """FFmpeg's name of an H.273 transfer characteristic ("" where unspecified)."""
    return "" if code in UNSPECIFIED else TRANSFERS.get(code, str(code))


def primaries_name(code: int) -> str:
    """FFmpeg's name of H.273 colour primaries ("" where unspecified)."""
    return "" if code in UNSPECIFIED else PRIMARIES.get(code, str(code))


def _rgb_to_xyz(primaries: str) -> np.ndarray:
    """The matrix from linear RGB in ``primaries`` to CIE XYZ (white D65 at Y = 1)."""
    columns = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in CHROMATICITIES[primaries]]).T
    white = np.array([D65[0] / D65[1], 1.0, (1 - D65[0] - D65[1]) / D65[1]])
    return columns * np.linalg.solve(columns, white)


@lru_cache(maxsize=None)
def _to_bt709(primaries: str) -> np.ndarray:
    """The matrix from linear RGB in ``primaries`` to linear BT.709 RGB."""
    return np.linalg.solve(_rgb_to_xyz("bt709"), _rgb_to_xyz(primaries)).astype(np.float32)


def _pq_nits(signal: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084's EOTF: PQ signal in [0, 1] to display light in nits."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    powered = signal ** (1 / m2)
    return 10000.0 * (np.maximum(powered - c1, 0) / (c2 - c3 * powered)) ** (1 / m1)


def _hlg_nits(signal: np.ndarray) -> np.ndarray:
    """BT.2100 HLG: inverse OETF to scene light, then the OOTF of a 1000-nit display (system gamma 1.2)."""
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    scene = np.where(signal <= 0.5, signal ** 2 / 3, (np.exp((signal - c) / a) + b) / 12)
    luminance = scene @ np.array([0.2627, 0.6780, 0.0593], dtype=scene.dtype)
    return 1000.0 * luminance[..., None] ** 0.2 * scene


@dataclass(frozen=True)
class ToSDR:
    """Converts RGB (uint16, the stream's transfer and primaries) to SDR BT.709 RGB (uint8)."""

    transfer: str
    primaries: str

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        signal = rgb.astype(np.float32) / 65535
        if self.transfer == "smpte2084":
            light = _pq_nits(signal) / SDR_WHITE_NITS
        elif self.transfer == "arib-std-b67":
            light = _hlg_nits(signal) / SDR_WHITE_NITS
        else:
            light = signal ** SDR_GAMMAS.get(self.transfer, DISPLAY_GAMMA)
        if self.primaries in WIDE_GAMUTS:
            light = np.maximum(light @ _to_bt709(self.primaries).T, 0)
        if self.transfer in HDR_TRANSFERS:
            light = _roll_off(light)
        return np.round(np.clip(light, 0, 1) ** (1 / DISPLAY_GAMMA) * 255).astype(np.uint8)


def _roll_off(light: np.ndarray) -> np.ndarray:
    """Linear RGB with every pixel's brightest channel above ``KNEE`` brought below 1 smoothly (slope 1 at the
    knee); the pixel's channels are scaled together, so its hue stays."""
    peak = light.max(axis=-1, keepdims=True)
    rolled = KNEE + (1 - KNEE) * -np.expm1(-(peak - KNEE) / (1 - KNEE))
    return np.where(peak > KNEE, light * (rolled / np.maximum(peak, KNEE)), light)


def sdr_converter(transfer: str, primaries: str) -> ToSDR | None:
    """The conversion a stream of this transfer and these primaries needs, or None for SDR BT.709 (and
    the primaries of SD video, which differ from BT.709's too little to matter)."""
    if transfer in HDR_TRANSFERS or primaries in WIDE_GAMUTS:
        return ToSDR(transfer, primaries)
    return None


def colour_summary(primaries: str, transfer: str) -> str:
    """A stream's colour as ``highlight info`` shows it, with what sampling does to it."""
    named = f"{primaries or 'unspecified'} primaries, {transfer or 'unspecified'} transfer"
    if transfer in HDR_TRANSFERS:
        return f"{named} (HDR {HDR_TRANSFERS[transfer]}: tone-mapped to SDR)"
    if primaries in WIDE_GAMUTS:
        return f"{named} (wide gamut: converted to BT.709)"
    return named
