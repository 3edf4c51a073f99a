"""Colour: colorize black-and-white photos, revive faded colour prints.

Black-and-white (including grey stored as RGB, and sepia-toned prints) goes
to ColorNet: it predicts CIE a*b* chroma from lightness at a working
resolution of 256 px on the short side, steered by the user's hints; the
chroma is upsampled and recombined with the photo's own full-resolution
lightness (after the tone step below), so grain and detail keep their shape.

Faces get skin's hue instead of the network's yellow (restorer.stages.skin), then
light yellowish chroma is scaled down, so whites stay white (restorer.stages.highlights),
before the hints are spread.

A faded black-and-white print first gets its blacks back (restorer.stages.tone: a
straight line on L*, in proportion to the veil over its shadows); with "revive" that
is all it gets, and it stays black and white.

Colour photos get the classic revival (the baseline): robust levels (clip
0.5 % at each end, each channel following its own points halfway from the
shared ones, gain capped so noise is not amplified), then saturation in a
luma/chroma split (see revive_faded).
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.imaging import Photo
from restorer.recipe import ColorizeSettings
from restorer.stages import StageContext, StageGenerator

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_TYPICAL_CHROMA = 0.09
CHANNEL_LEVELS = 0.5  # how far each channel's own black and white points are followed (see revive_faded)


# ColorNet runs with the photo's short side at this many pixels. Smaller lets its receptive field
# span more of the photo (sky above, grass below) and lets a hint reach further; chroma is smooth,
# and the full-resolution lightness keeps the detail. Measured on Kodak24 (with the gain below
# adjusted to keep colourfulness >= 0.7): 384 px 22.82 dB, 10 hints 24.26 dB; 256 px 23.09 / 24.82 dB;
# 192 px 23.16 / 24.81 dB.
WORKING_SHORT_SIDE = 256
# ColorNet's chroma is scaled by this at saturation 1.0. It is 1: the mean of the network's colour
# distribution as it is, which is already neutral where the network is unsure (a spread distribution
# averages towards grey) and vivid where it is sure (a peaked one averages to its colour). It was 0.83,
# a damping chosen for PSNR alone; measured with the four figures users see (restorer eval colorize,
# Kodak24: PSNR / colourfulness / hue hit rate / chroma on saturated pixels): x0.83 23.41 dB / 0.71 /
# 0.41 / 0.40; x1.0 22.92 / 0.85 / 0.46 / 0.48 (10 hints: 25.84 -> 25.45 dB, the hints' gain +2.43 ->
# +2.53 dB); sharper decodings were worse on hue: annealed mean T 0.5 22.42 / 0.86 / 0.39 / 0.45,
# T 0.38 22.28 / 0.87 / 0.37 / 0.46; chroma scaled by the distribution's confidence (1 - entropy)
# 22.73-22.86 / 0.73-0.78 / 0.38-0.39 / 0.38-0.42. The user's saturation slider goes up from here.
# Not kept either, as they moved the four figures too little to matter: averaging the pass with its mirror
# image's, or with passes at 208 and 320 px, moved hue hit rate and chroma by 0.011 or less, PSNR by
# 0.16 dB or less, on Kodak24, BSD100 and the held-out ImageNet photos (Kodak24 22.92 / 0.85 / 0.455 / 0.483 -> mirror
# 22.96 / 0.83 / 0.444 / 0.472, three sizes 22.96 / 0.84 / 0.464 / 0.482). Nor did fading the chroma
# of highlights (L* from 80-90 up) towards grey (within 0.01 and 0.2 dB), though old prints' whites
# come out cream: where the network is unsure its mean leans warm, as most photos' colours do.
_MODEL_CHROMA_GAIN = 1.0


def _sample(rgb: np.ndarray) -> np.ndarray:
    return rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)]


def is_monochrome(rgb: np.ndarray, tolerance: float = 4 / 255) -> bool:
    """True when the photo carries no real colour (grey stored as RGB)."""
    sample = _sample(rgb)
    chroma = sample - sample.mean(axis=2, keepdims=True)
    return float(np.percentile(np.abs(chroma), 99)) <= tolerance


def is_toned_monochrome(rgb: np.ndarray) -> bool:
    """True for sepia, selenium or cyanotype prints: one hue axis everywhere, varying only in strength.

    A colour cast must not fool it (a faded colour print is yellow overall too), so
    the test looks at how chroma varies around its mean: in a toned print it moves
    along one line in the a*b* plane; in any colour photo, however faded, objects of
    different colour pull it sideways. Measured on old_photos: toned prints have a
    sideways spread (std in a*b* units) of at most 2.2, faded colour prints at least 3.1.

    The line must also be a ray: toning tints a print one way from neutral, so a print has
    no colour opposite its tone (OPPOSITE_HUE_SHARE says why).
    """
    from restorer.colorspace import rgb_to_lab

    ab = rgb_to_lab(_sample(rgb))[..., 1:].reshape(-1, 2).astype(np.float64)
    if float(np.percentile(np.hypot(ab[:, 0], ab[:, 1]), 95)) > 45:
        return False  # genuinely colourful somewhere
    sideways = float(np.sqrt(max(np.linalg.eigvalsh(np.cov((ab - ab.mean(axis=0)).T))[0], 0.0)))
    return sideways < 2.6 and opposite_hue_share(rgb) < OPPOSITE_HUE_SHARE


# A muted colour photo can lie along one line in a*b* too: a blue sky over yellow sand, a blue boat on
# green-grey water, a tiger's white fur in blue shade. The line test above took 27 of the 188 colour
# photos of BSD100, Kodak24, Set14, LIVE1, McMaster and Set5 for toned prints, and the colour stage then
# painted ColorNet's colours over theirs. A toned print's chroma points one way from neutral: of its
# pixels with chroma over OPPOSITE_CHROMA (on the photo shrunk to 256 px and blurred, so chroma noise
# does not count), at most 0.9 % point more than 90 degrees away from its tone on the 30 toned prints of
# old_photos (the one above it, 6.4 %, is a grey portrait with a strip of a colour photo beside it; one
# of the 30, BringingOldPhotos' old/b.png, is in fact a pale autochrome, which no test here tells apart). Of
# the 27 colour photos, 13 have 4-51 % such pixels and are colour again; the other 14 keep their own
# colour where it is plainly off their tone (restorer.stages.own_colour).
OPPOSITE_CHROMA = 4.0
OPPOSITE_HUE_SHARE = 0.02


def opposite_hue_share(rgb: np.ndarray) -> float:
    """Share of the pixels of float32 RGB (H, W, 3) whose chroma exceeds OPPOSITE_CHROMA and whose hue is
    more than 90 degrees from the photo's chroma-weighted mean hue, on the photo shrunk to 256 px."""
    from restorer.colorspace import rgb_to_lab
    from restorer.resample import shrunk

    small = np.ascontiguousarray(shrunk(rgb, 256), dtype=np.float32)
    ab = rgb_to_lab(cv2.GaussianBlur(small, (0, 0), 1.0))[..., 1:]
    chroma = np.hypot(ab[..., 0], ab[..., 1])
    hue = np.arctan2(ab[..., 1], ab[..., 0])
    tone = np.angle(np.sum(chroma * np.exp(1j * hue)))
    away = np.abs(np.angle(np.exp(1j * (hue - tone))))
    return float(((chroma > OPPOSITE_CHROMA) & (away > np.pi / 2)).mean())


def is_black_and_white(rgb: np.ndarray) -> bool:
    return is_monochrome(rgb) or is_toned_monochrome(rgb)


def hints_in_pixels(hints: tuple, height: int, width: int) -> list[tuple[int, int, np.ndarray]]:
    """Each hint as (column, row, its a*b*) at a working resolution of `height` x `width`."""
    from restorer.colorspace import rgb_to_lab

    if not hints:
        return []
    colours = rgb_to_lab(np.array([[h[2:] for h in hints]], dtype=np.float32).reshape(1, -1, 3))[0, :, 1:]
    return [(int(round(h[0] * (width - 1))), int(round(h[1] * (height - 1))), ab) for h, ab in zip(hints, colours)]


def hint_planes(placed: list[tuple[int, int, np.ndarray]], height: int, width: int) -> np.ndarray:
    """(3, H, W) float32: a*/110, b*/110 and a mask, a 3x3 patch per hint (from `hints_in_pixels`)."""
    planes = np.zeros((3, height, width), dtype=np.float32)
    for cx, cy, ab in placed:
        ys, xs = slice(max(0, cy - 1), cy + 2), slice(max(0, cx - 1), cx + 2)
        planes[0, ys, xs], planes[1, ys, xs], planes[2, ys, xs] = ab[0] / 110, ab[1] / 110, 1.0
    return planes


# How a hint's correction spreads (restorer.stages.hint_spread): along regions of even lightness,
# stopping at edges, reaching across a uniform area about as far as the photo's short side
# (HINT_REACH) before it fades. HINT_EDGE is the L* step that ends an object. Measured on Kodak24
# at 384 px with 10 random hints (no spreading: 23.79 dB): the earlier Gaussian in distance and
# lightness scored 24.25 dB but tinted neighbouring objects of similar lightness (a red life ring
# coloured the white fence behind it); edge-aware (reach, edge) (0.25, 4) 24.05, (1.0, 4) 24.25,
# (1.0, 3) 24.26, (2.0, 3) 24.25, (1.0, 8) 24.19 dB.
HINT_REACH = 1.0
HINT_EDGE = 3.0

# With hints, the chroma is the average of ColorNet's answer with them and its answer without
# them, and the hints' corrections are spread over that. The network follows a hint with some
# sense of the object, but it also over-reaches: on kodim01 four clicks on red shutters tinted
# the whole stone wall orange while the shutters stayed grey. The pass without hints cannot leak;
# the edge-aware spreading then carries each hint along its own object. Chosen on LIVE1 and
# McMaster, not on the sets README reports: weight of the hinted pass 0 / 0.3 / 0.5 / 0.7 / 1 ->
# 10 hints LIVE1 24.96 / 25.20 / 25.23 / 25.15 / 24.84 dB, McMaster 20.56 / 20.69 / 20.69 /
# 20.61 / 20.36 dB.
HINTED_PASS_WEIGHT = 0.5


def spread_hint_corrections(ab: np.ndarray, light: np.ndarray,
                            placed: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """Carry each hint's correction (hint chroma minus predicted chroma there) over the object it is on.

    `ab` (H, W, 2) predicted a*b*, `light` (H, W) L* in 0..100, at working resolution; `placed` the
    hints at that resolution (`hints_in_pixels`). The network
    already sees the hints, but a briefly trained one follows them only nearby; this makes one
    click recolour the whole object around it. Returns the corrected a*b*.
    """
    from restorer.stages.hint_spread import spread_corrections

    if not placed:
        return ab
    corrections = np.array([target - ab[cy, cx] for cx, cy, target in placed])
    field = spread_corrections(light, [(cx, cy) for cx, cy, _ in placed], corrections,
                               reach=HINT_REACH, edge_sigma=HINT_EDGE)
    return ab + field


def load_reference(path: str) -> np.ndarray:
    """The reference photo's per-band colours; one sentence naming the file if it cannot be used."""
    from restorer.errors import RecipeError, RestorerError
    from restorer.imaging import read_photo
    from restorer.stages.colour_reference import reference_bands

    try:
        pixels = read_photo(path).float_pixels()
    except RestorerError as exc:
        raise RecipeError(f"The colour reference cannot be used: {exc}") from None
    if is_black_and_white(pixels):
        raise RecipeError(f"The colour reference {path.rsplit('/', 1)[-1]} has no colour to give; "
                          "choose a colour photo of a similar scene or era.")
    return reference_bands(pixels)


def faces_to_colour(rgb: np.ndarray) -> list:
    """The faces of float32 RGB (H, W, 3) that the skin step corrects, in the photo's pixels.

    Looked for at 4x ColorNet's working size at most: a face smaller than that covers too few working
    pixels to correct, and a 12-megapixel scan is then searched in one pass instead of ~20 tiles.
    """
    from restorer.faces.detect import detect_faces

    h, w = rgb.shape[:2]
    shrink = min(1.0, 4 * WORKING_SHORT_SIDE / min(h, w))
    if shrink >= 1.0:
        faces = detect_faces(rgb)
    else:
        small = cv2.resize(rgb, (max(1, round(w * shrink)), max(1, round(h * shrink))), interpolation=cv2.INTER_AREA)
        faces = [face.scaled(w / small.shape[1]) for face in detect_faces(small)]
    working = WORKING_SHORT_SIDE / min(h, w)
    return [face for face in faces if face.box[2] * working >= 4]  # under 4 working pixels wide: nothing to colour


def colorize_model(rgb: np.ndarray, hints: tuple, saturation: float, context: StageContext,
                   reference: str = "", skin: bool = True, faces: list | None = None) -> np.ndarray:
    """ColorNet chroma on the photo's own lightness; float32 (H, W, 3) in [0, 1].

    With `reference` (a colour photo's path) the network's colours are steered towards the
    reference's per lightness band before the hints are spread, so a click still wins where given;
    without one, light yellowish chroma is scaled down after the skin step (restorer.stages.highlights).
    With neither hints nor a reference, the photo's own colour is kept where it is plainly colour, off the
    print's tone (restorer.stages.own_colour): a muted colour photo can pass for a toned print.
    With `skin`, faces get skin's hue (restorer.stages.skin), before the hints too: `faces` if given
    (from `faces_to_colour`; [] for none), else those `faces_to_colour` finds.
    """
    import torch

    from restorer.colorspace import lab_to_rgb, rgb_to_lab
    from restorer.stages.highlights import neutral_highlights

    net, runtime = context.model_manager().color_network()
    context.use_model("restorer-colorize")
    lab = rgb_to_lab(rgb)
    h, w = lab.shape[:2]
    scale = WORKING_SHORT_SIDE / min(h, w)
    wh, ww = (max(16, int(round(h * scale / 16)) * 16), max(16, int(round(w * scale / 16)) * 16))
    light = cv2.resize(lab[..., 0], (ww, wh), interpolation=cv2.INTER_AREA) / 100.0
    placed = hints_in_pixels(hints, wh, ww)
    planes = hint_planes(placed, wh, ww)[None]
    if placed:  # one batch: the pass without hints, then the pass with them (see HINTED_PASS_WEIGHT)
        planes = np.concatenate([np.zeros_like(planes), planes])
    with torch.inference_mode(), runtime.autocast_context():
        batch = torch.from_numpy(light[None, None]).expand(len(planes), -1, -1, -1)
        passes = net(batch.to(runtime.device), torch.from_numpy(planes).to(runtime.device))
    passes = passes.float().permute(0, 2, 3, 1).cpu().numpy() * np.float32(110.0 * _MODEL_CHROMA_GAIN * saturation)
    ab = passes[0] if not placed else (1 - HINTED_PASS_WEIGHT) * passes[0] + HINTED_PASS_WEIGHT * passes[1]
    if reference:
        from restorer.stages.colour_reference import steer

        ab = steer(ab, light * 100.0, load_reference(reference))
        context.use_model("colour-reference", path=reference)
    if skin:
        from restorer.stages.skin import correct_skin

        faces = faces_to_colour(rgb) if faces is None else faces
        if faces:
            context.use_model("yunet-2023mar")
            ab = correct_skin(ab, light * 100.0, [face.scaled(ww / w) for face in faces], saturation)
    if not reference:  # whites stay white: the network's unsure mean leans yellow (a reference's whites are kept)
        # After the skin step, so a face's bright skin, turned to skin's hue, keeps its warmth.
        ab = neutral_highlights(ab, light * 100.0)
    ab = spread_hint_corrections(ab, light * 100.0, placed)
    ab = cv2.resize(ab, (w, h), interpolation=cv2.INTER_CUBIC)
    if not placed and not reference:  # asked for neither, the photo's own colour is kept where it has some
        from restorer.stages.own_colour import keep_own_colour

        ab = keep_own_colour(lab, ab)
    lab[..., 1:] = ab
    return lab_to_rgb(lab)


def revive_faded(rgb: np.ndarray, saturation: float) -> np.ndarray:
    """Levels and saturation on float32 (H, W, 3) in [0, 1]: what fading took, given back.

    Levels: each channel's black and white points (0.5th and 99.5th percentiles) are stretched to
    0 and 1, but only halfway from the points all channels share: the shared part is the fade's
    veil, the rest is partly a stain (a yellowed print's blue highlights) and partly the scene (a
    red door has no blue highlights). Stretching each channel fully, and pulling the channel means
    halfway to grey as this did before, turned a warm portrait's skin green and a white door knob
    cyan (Kodak's kodim04 and kodim02); on prints faded in simulation (`restorer eval revive`) the
    halfway stretch also comes closer to the original. Saturation: faded prints lose chroma, so it
    is raised towards what photos typically hold (75th-percentile chroma 0.09), never more than
    doubled, and never lowered.
    """
    sample = rgb[:: max(1, rgb.shape[0] // 512), :: max(1, rgb.shape[1] // 512)].reshape(-1, 3)
    low = np.percentile(sample, 0.5, axis=0).astype(np.float32)
    high = np.percentile(sample, 99.5, axis=0).astype(np.float32)
    low = low.min() + CHANNEL_LEVELS * (low - low.min())
    high = high.max() + CHANNEL_LEVELS * (high - high.max())
    gain = 1.0 / np.maximum(high - low, 1.0 / 3.0)  # at most 3x stretch per channel
    balanced = (rgb - low) * gain
    luma = balanced @ _LUMA
    chroma = balanced - luma[..., None]
    sample_chroma = np.linalg.norm(chroma[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)], axis=2)
    typical = float(np.percentile(sample_chroma, 75))
    boost = float(np.clip(_TYPICAL_CHROMA / max(typical, 1e-3), 1.0, 2.0))
    out = luma[..., None] + chroma * np.float32(saturation * boost)
    return np.clip(out, 0.0, 1.0)


# How faded a colour photo looks, from its veil: the black point all three channels share (the
# 0.5th percentile of the darkest channel, after a 3x3 median so that grain does not hide it).
# Fading lifts every dye's shadows, so a faded print has no true black; most healthy photos do.
# Revival in `auto` is applied in proportion: none at or below FADE_VEIL[0], in full from
# FADE_VEIL[1]. Measured with `restorer eval revive` (photos faded in simulation, and the same
# photos healthy): every faded photo of Kodak24, McMaster, LIVE1 and BSD100 is revived in full
# (the same PSNR as an unconditional revival), while 38 %, 94 %, 52 % and 44 % of the healthy ones
# are left exactly as they were (before: none). The others are hazy, misty or high-key scenes with
# no black (a snake on pale sand, a savanna in haze), which look faded to this measure too. Without
# the median 42-55 % were spared, but grain (sigma 0.025) hid most of a faded print's veil: the
# example scan was revived at 28 %. A logistic fit on veil, white point, colour cast and chroma
# together separated faded from healthy no better. Not caught: a print whose red shadows kept
# their black while cyan-dye fading lifted the others (DeOldify's FadedRacket), and a scan whose
# software already set the black point. "revive" (Revive faded prints only) revives those.
FADE_VEIL = (0.03, 0.07)


def fade_evidence(rgb: np.ndarray) -> float:
    """0 (looks healthy: true blacks) .. 1 (looks faded: the shadows veiled) for float32 RGB in [0, 1]."""
    # A 3x3 median first: grain would pull the darkest pixels below the veil (the example scan's
    # grain, sigma 0.025, hid two thirds of its 0.08 veil), while a true black is an area, not a pixel.
    from restorer.resample import shrunk

    # A large scan is averaged down first (its grain with it), so the median stays cheap.
    small = shrunk(np.ascontiguousarray(rgb[..., :3], dtype=np.float32), 1024)
    sample = _sample(cv2.medianBlur(small, 3))
    veil = float(np.percentile(sample.reshape(-1, 3), 0.5, axis=0).min())
    return float(np.clip((veil - FADE_VEIL[0]) / (FADE_VEIL[1] - FADE_VEIL[0]), 0.0, 1.0))


def auto_revive(rgb: np.ndarray, saturation: float) -> tuple[np.ndarray, float]:
    """(revived float32 RGB, the fade evidence it was applied with): `revive_faded` in proportion to
    how faded the photo looks, the photo itself (not a copy) when it looks healthy."""
    evidence = fade_evidence(rgb)
    if evidence <= 0.0:
        return rgb, 0.0
    revived = revive_faded(rgb, saturation)
    return (revived if evidence >= 1.0 else rgb + (revived - rgb) * np.float32(evidence)), evidence


# A photo taken for black and white whose own colour is kept on at least this share of it (restorer.stages.
# own_colour) may be a colour photo, and the stage's note says so. On the toned prints of old_photos the
# share is at most 2.0 % (stains, the mount's edges); on the 14 colour photos of eval/ still taken for
# toned prints it is 0-49 %, and 3 % or more on 5 of them.
OWN_COLOUR_NOTE_SHARE = 0.03


def _kept_own_colour(rgb: np.ndarray, settings: ColorizeSettings) -> float:
    """The share of the photo whose own colour the stage kept, when it is worth telling (else 0)."""
    if settings.hints or settings.reference:
        return 0.0  # with hints or a reference the photo's own colour is not kept
    from restorer.stages.own_colour import own_colour_share

    share = own_colour_share(rgb)
    return share if share >= OWN_COLOUR_NOTE_SHARE else 0.0


def run(photo: Photo, settings: ColorizeSettings, context: StageContext) -> StageGenerator:
    from restorer.errors import ModelUnavailable

    src = photo.float_pixels()
    yield 0.1
    bw = is_black_and_white(src)
    toned, veil = src, 0.0
    if bw and settings.tone:  # a faded print's blacks first: ColorNet learned on photos that have them
        from restorer.stages.tone import auto_revive_tone

        toned, veil = auto_revive_tone(src)
    tone_note = "" if veil <= 0.0 else ("its blacks restored" if veil >= 1.0 else f"its blacks restored in part ({veil:.0%})")
    if settings.engine == "model" or (settings.engine == "auto" and bw):
        try:
            faces = faces_to_colour(toned) if settings.skin else []
            result = colorize_model(toned, settings.hints, settings.saturation, context, settings.reference,
                                    faces=faces)
        except ModelUnavailable as exc:
            if settings.engine == "model":
                raise
            if veil <= 0.0:
                yield 1.0
                return photo, f"black-and-white photo left unchanged ({exc})"
            result, note = toned, f"black-and-white photo not colorized ({exc}); {tone_note}"
        else:
            note = "colorized" + (f" with {len(settings.hints)} hint(s)" if settings.hints else "") + (
                f", colours from {settings.reference.rsplit('/', 1)[-1]}" if settings.reference else "") + (
                f"; skin's hue on {len(faces)} face{'s' if len(faces) > 1 else ''}" if faces else "") + (
                f"; {tone_note}" if tone_note else "")
            kept = _kept_own_colour(toned, settings)
            if kept:
                note += (f"; its own colour kept on {kept:.0%} of it (it may be a colour photo: Revive faded "
                         "prints only, or --colour-engine revive, keeps all its colour)")
                if context.extras is not None:  # a batch's report says it beside the file
                    context.extras.setdefault("notices", []).append(
                        f"taken for black and white and colorized, but its own colour was kept on {kept:.0%} of it: "
                        "it may be a colour photo (--colour-engine revive keeps all its colour)")
    elif bw and veil > 0.0:
        result, note = toned, f"black-and-white print kept black and white, {tone_note}"
    elif bw:
        yield 1.0
        return photo, ("black-and-white photo left unchanged (it has true blacks, and colour revival needs colour "
                       "to revive)" if settings.tone else
                       "black-and-white photo left unchanged (colour revival needs colour to revive)")
    elif settings.engine == "revive":
        result, note = revive_faded(src, settings.saturation), "faded colour revived"
    else:
        result, evidence = auto_revive(src, settings.saturation)
        if evidence <= 0.0:
            yield 1.0
            return photo, ("colour photo left unchanged: it has true blacks, so it does not look faded "
                           "(choose Revive faded prints only to revive it anyway)")
        note = "faded colour revived" + ("" if evidence >= 1.0 else f" in part ({evidence:.0%}: a light veil)")
    strength = np.float32(settings.strength)
    out = src + (result - src) * strength if strength < 1 else result
    yield 1.0
    return photo.with_pixels(np.ascontiguousarray(out, dtype=np.float32)), note
