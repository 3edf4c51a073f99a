"""Descreen: find a printed photo's halftone screen and take it away before anything magnifies it.

A photo reproduced in a book, magazine or newspaper is made of ink dots on a regular lattice.
Scanned, the lattice shows as a fine grid; denoisers read it as texture, super resolution
sharpens it into a pattern of its own, and a zoomed-out view shows it as moiré. Its
signature is unmistakable in the spectrum: sharp, isolated peaks on a square lattice, the same
in every toned part of the print, where a photo's own spectrum falls smoothly with frequency.

`find_screen` looks for them on windows spread over the whole scan (at its own resolution:
a screen lives at the scan's pixel scale); `descreen` removes everything from just below the
screen's frequency up, which is where the dots and their modulation live, and the colour to
half that. A halftone cannot carry detail finer than its own lattice, so nothing of the photo
is lost that the print had.

Image contract: `find_screen` takes float32 (H, W, 3) or (H, W) in [0, 1]; `descreen` takes
float32 (H, W, C) in [0, 1] and returns the same shape, dtype and range.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from restorer.colorspace import LUMA_WEIGHTS, luma

_WINDOW = 256
MIN_SIDE = 192  # smaller than this, too few windows to tell a screen from chance
_MAX_WINDOWS_PER_SIDE = 7
# A screen's period in scan pixels, from the finest a scan resolves (about two pixels: a 150 lpi
# book at 300 dpi) to the coarsest that is still a screen and not the photo's own texture (a
# 65 lpi newspaper at 1200 dpi is 18 px).
SHORTEST_PERIOD, LONGEST_PERIOD = 2.2, 24.0
# How far a peak of the screen (fundamental, harmonic or moiré) stands above the spectrum around it
# (dB): in the spectrum averaged over the windows, and in nearly every toned window on its own (the
# screen covers the whole print; a fence or a striped dress covers one part of it).
PEAK_DB, WINDOW_PEAK_DB, WINDOW_SHARE = 12.0, 6.0, 0.9
TONED = (0.1, 0.9)  # windows of this mean lightness carry dots, and so the screen
# A screen's two fundamental peaks stand out by this much (dB). Halftone scans simulated from
# Kodak24 show 24-41 dB; on 1,323 clean training photos, stripes, shelves, scan lines and
# resampling patterns reached 12-18 dB (a wire-grid studio backdrop 25 dB, a true lattice).
SCREEN_DB = 20.0
LATTICE_TOLERANCE, LATTICE_ANGLE = 0.06, 6.0  # equal frequencies within 6 %, a right angle within 6°
_DB = 10.0 / np.log(10.0)


@dataclass(frozen=True)
class Screen:
    """A halftone screen found in a scan: its lattice's fundamental `period` (px) and `angle` (degrees,
    0..180), how far its strongest peak stands out (`contrast_db`), and every peak found (cycles/px)."""

    period: float
    angle: float
    contrast_db: float
    peaks: tuple[tuple[float, float], ...]

    def describe(self) -> str:
        return f"halftone screen, period {self.period:.1f} px at {self.angle:.0f}°"


def _grey(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) if pixels.ndim == 2 else luma(pixels[..., :3])


# BT.601 Y, Cb, Cr without offsets: an exactly invertible linear map.
_TO_YCBCR = np.stack([LUMA_WEIGHTS, [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]).astype(np.float32)
_FROM_YCBCR = np.linalg.inv(_TO_YCBCR).astype(np.float32)


def to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3] @ _TO_YCBCR.T


def from_ycbcr(ycc: np.ndarray) -> np.ndarray:
    return ycc @ _FROM_YCBCR.T


def _window_spectra(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(power spectra (centred, DC at [n/2, n/2]), mean grey) of square windows spread over `gray`,
    overlapping by half.

    Enough of them that the average is steady: one window's spectrum scatters so much from bin to
    bin that a photo shows a few "peaks" of 12 dB by chance."""
    h, w = gray.shape
    n = _WINDOW if min(h, w) >= 3 * _WINDOW else _WINDOW // 2
    n = min(n, 1 << int(np.log2(min(h, w))))
    hann = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)

    def starts(side: int) -> np.ndarray:
        return np.linspace(0, side - n, min(_MAX_WINDOWS_PER_SIDE, (side - n) // (n // 2) + 1)).astype(int)

    spectra, means = [], []
    for y in starts(h):
        for x in starts(w):
            patch = gray[y : y + n, x : x + n]
            means.append(float(patch.mean()))
            power = np.abs(np.fft.fft2((patch - patch.mean()) * hann)) ** 2
            spectra.append(np.fft.fftshift(power).astype(np.float32))
    return np.stack(spectra), np.array(means)


def _peak_contrast(power: np.ndarray) -> np.ndarray:
    """Each bin's log power over the mean log power of the 9x9 bins around it, less the 3x3 centre
    (natural-log units): high on isolated peaks, near zero on a smooth spectrum and on its lines."""
    log_power = np.log(power + 1e-20).astype(np.float32)
    around9 = cv2.boxFilter(log_power, -1, (9, 9), normalize=False, borderType=cv2.BORDER_REFLECT)
    around3 = cv2.boxFilter(log_power, -1, (3, 3), normalize=False, borderType=cv2.BORDER_REFLECT)
    return log_power - (around9 - around3) / 72.0


BLOCKY = 1.1


def _blocky(gray: np.ndarray) -> bool:
    """Whether a JPEG's 8x8 blocks show: steps between pixels across block borders exceed those
    inside blocks by BLOCKY (on either axis, wherever the grid starts)."""
    def ratio(steps: np.ndarray) -> float:
        per_offset = np.array([steps[:, k::8].mean() for k in range(8)])
        return float(per_offset.max() / max(np.median(per_offset), 1e-6))

    return max(ratio(np.abs(np.diff(gray, axis=1))), ratio(np.abs(np.diff(gray, axis=0)).T)) > BLOCKY


def find_screen(pixels: np.ndarray) -> Screen | None:
    """The halftone screen of a scan, or None when it has none (every photo that is not a print of one).

    A large scan is also looked at halved, for screens coarser than LONGEST_PERIOD (a newspaper's
    85 lpi scanned at 2400 dpi is 28 px); the screen is then given at the scan's own scale."""
    gray = _grey(pixels)
    if min(gray.shape) < MIN_SIDE:
        return None
    screen = _find_in(gray)
    # A coarse screen's fundamental lies beyond the band, but its harmonics (periods of a half, a
    # root-two or a root-five of it, all over 8 px here) can make a lattice inside it. A fine screen
    # is not looked at halved, where its dots would fold into false coarse peaks.
    if min(gray.shape) >= 4 * MIN_SIDE and (screen is None or screen.period >= 8.0):
        half = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
        coarse = _find_in(half)
        if coarse is not None and 2 * coarse.period >= LONGEST_PERIOD and (
                screen is None or 2 * coarse.period > 1.3 * screen.period):
            screen = replace(coarse, period=2 * coarse.period, peaks=tuple((y / 2, x / 2) for y, x in coarse.peaks))
    return screen


def _find_in(gray: np.ndarray) -> Screen | None:
    """The screen in grey `gray` at its own scale, or None."""
    spectra, means = _window_spectra(gray)
    n = spectra.shape[-1]
    per_window = np.stack([_peak_contrast(s) for s in spectra])
    average = spectra.mean(axis=0)
    pooled = _peak_contrast(average)
    fy, fx = (np.mgrid[0:n, 0:n] - n // 2) / n
    radius = np.hypot(fy, fx)
    band = (radius >= 1 / LONGEST_PERIOD) & (radius <= 1 / SHORTEST_PERIOD)
    half_plane = (fy > 0) | ((fy == 0) & (fx > 0))  # each peak has its mirror image; count it once
    # JPEG's 8x8 blocks put peaks at multiples of 1/8 cycle/px on both axes: those are not a screen.
    # The window sizes are multiples of 8, so those peaks fall exactly on bins, left out where the
    # scan shows blocks (a screen of exactly 8 px at 0°, or 5.66 at 45°, is then missed).
    on_jpeg_grid = (np.abs(fx * 8 - np.round(fx * 8)) * n < 4) & (np.abs(fy * 8 - np.round(fy * 8)) * n < 4)
    if not _blocky(gray):
        on_jpeg_grid[:] = False
    # Paper white and solid ink carry no dots; everywhere else a print's screen shows.
    toned = (means > TONED[0]) & (means < TONED[1])
    if not toned.any():
        return None
    local_max = pooled >= cv2.dilate(pooled, np.ones((3, 3), np.uint8))
    candidates = local_max & band & half_plane & ~on_jpeg_grid & (pooled * _DB >= PEAK_DB)
    held = [(int(y), int(x)) for y, x in np.argwhere(candidates)
            if np.mean(per_window[toned, y, x] * _DB >= WINDOW_PEAK_DB) >= WINDOW_SHARE]
    # A screen is a square lattice: two strong peaks at the same frequency, a right angle apart.
    # Stripes, shelves, scan lines and a photo's resampling make one direction, or weaker peaks.
    strong = [p for p in held if pooled[p] * _DB >= SCREEN_DB]
    pairs = [(a, b) for i, a in enumerate(strong) for b in strong[i + 1 :] if _square(a, b, fy, fx)]
    if not pairs:
        return None
    strongest = max((p for pair in pairs for p in pair), key=lambda p: average[p])
    peaks = tuple((float(fy[y, x]), float(fx[y, x])) for y, x in held)
    angle = float(np.degrees(np.arctan2(fy[strongest], fx[strongest]))) % 180.0
    return Screen(period=float(1.0 / radius[strongest]), angle=angle,
                  contrast_db=float(pooled[strongest] * _DB), peaks=peaks)


def _square(a: tuple[int, int], b: tuple[int, int], fy: np.ndarray, fx: np.ndarray) -> bool:
    """Whether peaks `a` and `b` (bins) could be a square lattice's two directions."""
    ra, rb = np.hypot(fy[a], fx[a]), np.hypot(fy[b], fx[b])
    if abs(ra - rb) > LATTICE_TOLERANCE * max(ra, rb):
        return False
    turn = abs(np.degrees(np.arctan2(fy[a], fx[a]) - np.arctan2(fy[b], fx[b]))) % 180.0
    return abs(turn - 90.0) <= LATTICE_ANGLE


# The low-pass's edges, as fractions of the screen's fundamental frequency: full response below
# PASS_EDGE, none above STOP_EDGE, a raised cosine between (a sharp edge would ring).
PASS_EDGE, STOP_EDGE = 0.5, 0.8
# A moiré peak's notch (Gaussian sigma, as a fraction of the fundamental frequency): wide enough for
# the sidebands the photo's tones put around it.
NOTCH_WIDTH = 0.08
CHROMA_STRETCH = 2.0
_TILE = 1024


def screen_response(shape: tuple[int, int], screen: Screen, pass_edge: float = PASS_EDGE,
                    stop_edge: float = STOP_EDGE) -> np.ndarray:
    """The filter's gain on cv2.dft's unshifted frequency grid of `shape`: a low-pass below the screen's
    fundamental frequency (a raised cosine from `pass_edge` to `stop_edge` of it; a sharp edge would
    ring), and a notch on every peak of the screen that the low-pass lets through (moiré)."""
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None].astype(np.float32)
    fx = np.fft.fftfreq(w)[None, :].astype(np.float32)
    cutoff = 1.0 / screen.period
    t = np.clip((np.hypot(fy, fx) / cutoff - pass_edge) / (stop_edge - pass_edge), 0.0, 1.0)
    gain = 0.5 * (1.0 + np.cos(np.pi * t))
    width = NOTCH_WIDTH * cutoff
    for py, px in screen.peaks:
        if np.hypot(py, px) >= stop_edge * cutoff:
            continue
        for sy, sx in ((py, px), (-py, -px)):  # a real image's spectrum is symmetric
            gain = gain * (1.0 - np.exp(-((fy - sy) ** 2 + (fx - sx) ** 2) / (2 * width * width)))
    return gain.astype(np.float32)


def descreen(pixels: np.ndarray, screen: Screen, pass_edge: float = PASS_EDGE,
             stop_edge: float = STOP_EDGE) -> np.ndarray:
    """`pixels` with the screen's frequencies removed (everything from just below its fundamental up, and its
    moiré peaks below that), in tiles so memory stays bounded on large scans.

    A colour scan is filtered as lightness and colour (Y, Cb, Cr), the colour to half the frequency the
    lightness keeps: a toned print's dots are coloured, and a four-ink print's screens beat into a
    mottle of colour coarser than any one screen, while the eye sees colour at far less resolution
    than lightness."""
    from restorer.tiling import windows

    squeeze = pixels.ndim == 2
    image = pixels[..., None] if squeeze else pixels
    h, w, channels = image.shape
    colour = channels == 3
    # The filter's kernel rings out over a few periods of its transition band's width.
    finest = 1.0 / (screen.period * CHROMA_STRETCH if colour else screen.period)
    context = int(min(256, np.ceil(3.0 / ((stop_edge - pass_edge) * finest))))
    out = np.empty(image.shape, np.float32)
    responses: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for win in windows(h, w, _TILE, context):
        # Mirror the tile out to the full context on every side, so the photo's own border
        # does not wrap around into the tile's opposite edge.
        top, left = context - (win.y - win.y0), context - (win.x - win.x0)
        bottom, right = context - (win.y1 - win.y_end), context - (win.x1 - win.x_end)
        tile = image[win.y0 : win.y1, win.x0 : win.x1].astype(np.float32)
        if colour:
            tile = to_ycbcr(tile)
        th, tw = tile.shape[0] + top + bottom, tile.shape[1] + left + right
        size = (cv2.getOptimalDFTSize(th), cv2.getOptimalDFTSize(tw))
        # Mirrored out to the DFT's size too: the transform wraps, and a mirror joins without a seam.
        # (numpy's reflection repeats itself where a small photo is narrower than the padding.)
        tile = np.pad(tile, ((top, bottom + size[0] - th), (left, right + size[1] - tw), (0, 0)), mode="reflect")
        if size not in responses:
            lightness = screen_response(size, screen, pass_edge, stop_edge)
            coarse = replace(screen, period=screen.period * CHROMA_STRETCH)
            colour_gain = screen_response(size, coarse, pass_edge, stop_edge) if colour else lightness
            responses[size] = (lightness[..., None], colour_gain[..., None])
        filtered = np.empty(tile.shape, np.float32)
        for c in range(channels):
            gain = responses[size][0 if c == 0 else 1]
            spectrum = cv2.dft(np.ascontiguousarray(tile[..., c]), flags=cv2.DFT_COMPLEX_OUTPUT)
            filtered[..., c] = cv2.idft(spectrum * gain, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
        core = filtered[context : context + win.y_end - win.y, context : context + win.x_end - win.x]
        out[win.y : win.y_end, win.x : win.x_end] = from_ycbcr(core) if colour else core
    out = np.clip(out, 0.0, 1.0)
    return out[..., 0] if squeeze else out
