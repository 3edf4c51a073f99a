"""Propose an inpainting mask: thin scratches, cracks and dust specks.

Image contract: `detect_scratches(rgb)` takes float32 (H, W, 3) in [0, 1] and
returns bool (H, W), True on proposed damage. The user edits the proposal.

Two engines. "model" is ScratchNet, a small U-Net trained on photos with
synthetic scratches, cracks and dust painted in (restorer.training.
train_scratches); it judges a line by its surroundings, so it can leave hair,
wires, text and glittering water alone. "classic", below, is the hand-built
baseline, used when the network's weights are not installed.

Damage on prints is thin and differs sharply from its surroundings: missing
emulsion shows as bright lines, cracks and dirt as dark ones. Morphological
top-hat (bright) and black-hat (dark) responses with a small structuring
element isolate such thin structures; a threshold relative to the photo's own
noise level keeps the strong ones. Connected parts are then kept only if they
look like damage:
- lines: long and thin (a skeleton much longer than the part is wide), or
- specks: small isolated dots with high contrast.
Round mid-sized dark parts (eyes, nostrils, buttons) and short dark strokes
(hair, letters) fail both tests. Dark lines must be longer than bright ones,
since hair and wires are dark too.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from restorer.colorspace import luma
from restorer.tiling import windows

log = logging.getLogger(__name__)


def _responses(gray: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    bright = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel)
    dark = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    return bright, dark


def _texture(gray: np.ndarray) -> np.ndarray:
    """Local standard deviation of the photo with thin damage median-filtered away."""
    # A 9x9 median erases lines up to 4 px wide, so the damage itself does not count as texture.
    base = cv2.medianBlur((np.clip(gray, 0, 1) * 255).astype(np.uint8), 9).astype(np.float32) / 255
    mean = cv2.blur(base, (9, 9))
    return np.sqrt(np.maximum(cv2.blur(base * base, (9, 9)) - mean * mean, 0))


def edge_band(height: int, width: int) -> int:
    """Width in pixels of the photo's outer band where the print's own edge lies (3 % of the short side)."""
    return max(3, int(0.03 * min(height, width)))


def in_edge_band(stats: np.ndarray, height: int, width: int) -> np.ndarray:
    """For each connected part (rows of cv2 stats: x, y, w, h, area), whether it lies wholly in the
    photo's outer band (edge_band).

    That band holds the print's own edge: frame lines, the mount, a scanner's shadow. They are not
    damage to fill, while a torn corner, which also touches the edge, reaches further in and stays.
    """
    x, y, w, h = (stats[:, i].astype(np.int64) for i in range(4))
    border = edge_band(height, width)
    return (x + w <= border) | (y + h <= border) | (x >= width - border) | (y >= height - border)


def drop_print_edges(found: np.ndarray) -> np.ndarray:
    """A bool mask without the lines that run along the photo's edge (see in_edge_band).

    Only parts longer than the band is wide go: a dust speck near the edge is damage like any other
    (dropping those too cost a third of the dust found on old_photos' 1855 portrait).
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
    border = edge_band(*found.shape)
    edge_line = in_edge_band(stats, *found.shape) & (np.maximum(stats[:, 2], stats[:, 3]) > border)
    keep = ~edge_line
    keep[0] = False  # the background
    return keep[labels]


def _keep_damage(candidates: np.ndarray, strength: np.ndarray, texture: np.ndarray, *, min_length: float,
                 max_speck: int, speck_contrast: float, speck_texture: float, line_texture: float) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    on_edge = in_edge_band(stats, *candidates.shape)
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if on_edge[i]:
            continue
        extent = float(np.hypot(w, h))
        component = labels[y : y + h, x : x + w] == i
        busy = float(texture[y : y + h, x : x + w][component].mean())
        if area <= max_speck:
            # A speck: small, clearly brighter/darker than around it, on a calm area
            # (a catchlight in an eye or a glint in a busy scene sits in texture).
            keep[i] = float(strength[y : y + h, x : x + w][component].max()) >= speck_contrast and busy < speck_texture
            continue
        # A line: long compared with its thickness (area / extent approximates the width).
        width = area / max(extent, 1.0)
        keep[i] = extent >= min_length and width <= 3.0 and busy < line_texture
    return keep[labels]


# In an unattended run (`run --detect-scratches`, the recipe's inpaint.detect, `restorer detect`),
# ScratchNet's compact thick marks are dropped: there they are mostly objects, not damage. On clean
# photos its largest false alarms are round blobs on pale, smooth things: sea-anemone tips
# (BSD100: 12 % of one photo), the ribs of a cactus, a white shirt (Set14: 8 %). A fill there paints
# a smudge where an object was, far worse than filling a thin false line. Real damage that wide is long (a crack or a tear runs for many
# times its width); wide round damage (a lost corner, a lifted patch of emulsion) ScratchNet does
# not find anyway, and the brush is the tool for it. So a mark thicker than COMPACT_MARK_WIDTH px
# (its widest inscribed circle, for a photo of 512 px on its short side, scaled with larger photos,
# whose damage is wider in pixels) must be at least COMPACT_MARK_ELONGATION times as long as it is
# wide. Measured with `restorer eval damage` (ScratchNet v5, default sensitivity): clean photos marked
# Kodak24 0.74 -> 0.54 %, BSD100 0.75 -> 0.57 % (worst 12.0 -> 6.0 %), LIVE1 1.01 -> 0.78 %,
# McMaster 0.81 -> 0.78 %, Set14 1.94 -> 0.97 %; the six labelled prints 0.419 / 0.179 / 0.143 ->
# 0.435 / 0.179 / 0.145 (precision / recall / IoU): only false marks went, among them a pale blob on
# the smoking woman's neck (old_w_scratch/a.png). Width 6 went further on clean photos but began to
# cost recall; elongation 6 the same. The window keeps them, because there the user reviews the
# proposal before anything is filled: on the example scan (resources/examples) the network merges
# tangled scribbles into two solid marks of 45 and 22 px, which this rule would take from 98 % of
# the painted scratches found to 45 %, and their confidence and inner texture are no different
# from an anemone tip's. Unattended, a smudged object is the worse mistake: nobody is there to stop
# the fill.
COMPACT_MARK_WIDTH = 8.0
COMPACT_MARK_ELONGATION = 4.0


def drop_compact_blobs(found: np.ndarray) -> np.ndarray:
    """A bool mask without its thick, compact parts (see COMPACT_MARK_WIDTH): lines, thin cracks, specks
    and long wide tears stay."""
    marks = found.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    if count <= 1:
        return found
    # Twice the distance to the nearest unmarked pixel, at its largest: the widest circle inside the mark.
    # The frame counts as unmarked (OpenCV would call the world beyond it infinitely marked).
    inside = cv2.distanceTransform(cv2.copyMakeBorder(marks, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0),
                                   cv2.DIST_L2, 3)[1:-1, 1:-1]
    width = np.zeros(count)
    np.maximum.at(width, labels[found], 2.0 * inside[found])  # marked pixels only: a few % of the photo
    elongation = stats[:, cv2.CC_STAT_AREA] / np.maximum(width, 1.0) ** 2  # about length / width
    limit = COMPACT_MARK_WIDTH * max(1.0, min(found.shape) / 512)
    keep = (width <= limit) | (elongation >= COMPACT_MARK_ELONGATION)
    keep[0] = False  # the background
    return keep[labels]


_MODEL_TILE = 512
_MODEL_CONTEXT = 48  # beyond ScratchNet's receptive field radius (~45 px)
# ScratchNet runs at the photo's own scale only. What it misses on the labelled prints is mostly
# damage it cannot see at any threshold: on the 1920s family photo and the cobbler's shop, 73-74 % of
# the labelled pixels score a logit below -4 within 2 px (the lifted, crazed emulsion; a torn-off corner
# showing the mount), against 6 % on the scratched portrait and 21 % on the 1855 dust. Tried and not kept
# (unattended, precision / recall, Kodak24 and BSD100 marked): the maximum of the logits at full, half
# and quarter scale, 0.483 / 0.186, 0.44 / 0.44 % -> 0.337 / 0.248, 1.96 / 1.06 % (half scale alone
# less 1 logit: 0.450 / 0.217, 1.00 / 0.64 %); the network on the photo's grey (a sepia print's
# tone taken away) 0.411 / 0.152. Finding those needs a network that has learned them.


# Real cracks and dust carry a shaded rim the network marks only partly. A fill takes its colour
# from the pixels just outside the mask, so an unmarked rim comes back as a grey disc where a
# white speck was (the cheek in old_photos/.../old_w_scratch/a.png) and as a glossy ghost of a
# wide crack. Grown by 1 px the speck still shows as a grey disc; by 2 px it is gone and the
# crack is a faint smear; 3 px smooths the crack's neighbourhood into a visible blob. Marks
# under 12 pixels (dust, a catchlight the network half-suspects) grow by 1 px: ScratchNet v4
# marks a speck with its soft rim already, so a second pixel all round mostly added clean
# pixels (on the labelled prints: precision 0.33 with every mark grown by 2, 0.37 like this),
# and growing a small eye's highlight by 2 would put a third of it under the brush. The cheek
# speck above is a 21-pixel mark, and grows by 2.
PROPOSAL_GROWTH = 2
_SMALL_MARK_PIXELS = 12


def grow_proposal(found: np.ndarray, grow: int) -> np.ndarray:
    """Dilate a bool mask by `grow` px, but marks under _SMALL_MARK_PIXELS pixels by at most 1 px."""
    if grow <= 0:
        return found
    disc = lambda r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)  # noqa: E731
    marks = found.astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    large = (stats[:, cv2.CC_STAT_AREA] >= _SMALL_MARK_PIXELS)[labels] & found
    grown = cv2.dilate(marks, disc(min(1, grow))) > 0
    if grow > 1:
        grown |= cv2.dilate(large.astype(np.uint8), disc(grow)) > 0
    return grown


# A mark is made in two steps (hysteresis, as edge detectors link edges): it must be sure somewhere
# (a logit SEED_MARGIN above the threshold), and then it takes in every pixel connected to that place
# down to REACH_MARGIN below the threshold. A scratch's faint stretches, and a crack's soft rim, join
# the sure part they belong to; faint isolated marks on texture (fur, grass, fabric), which never
# reach certainty, go. Against one threshold, on the six labelled prints and clean photos, unattended
# (precision / recall / IoU, Kodak24 marked; `restorer eval damage`): 0.435 / 0.179 / 0.145, 0.54 %
# -> 0.483 / 0.186 / 0.155, 0.44 %. Margins tried (seed, reach): (1, 1) 0.431 / 0.205, 0.55 %;
# (1.5, 1) 0.447 / 0.193, 0.50 %; (2, 0.5) 0.509 / 0.171, 0.40 %; (2.5, 1) 0.496 / 0.170, 0.38 %;
# (3, 1) 0.513 / 0.156, 0.32 %; lowering the single threshold instead by 1 gave 0.39 / 0.22 at 0.72 %.
SEED_MARGIN, REACH_MARGIN = 2.0, 1.0


def hysteresis(logits: np.ndarray, threshold: float) -> np.ndarray:
    """Bool mask of the pixels above `threshold - REACH_MARGIN` connected (8-neighbours) to one above
    `threshold + SEED_MARGIN`."""
    reach = (logits > threshold - REACH_MARGIN).astype(np.uint8)
    count, labels = cv2.connectedComponents(reach, connectivity=8)
    if count <= 1:
        return reach.astype(bool)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[logits > threshold + SEED_MARGIN])] = True
    seeded[0] = False  # the background
    return seeded[labels]


def detect_scratches_model(rgb: np.ndarray, net, runtime, *, sensitivity: float = 1.0,
                           grow: int = PROPOSAL_GROWTH, protect_faces: bool = True,
                           unattended: bool = False) -> np.ndarray:
    """ScratchNet's proposal, run in overlapping tiles so memory stays bounded on large scans.

    Marks are found by hysteresis (SEED_MARGIN says why). The proposal is grown by `grow` pixels, tiny
    marks by one (PROPOSAL_GROWTH says why). On synthetic hard-edged scratches the growth costs
    precision (see README); `grow=0` gives the raw mask. With `protect_faces`, marks on the eyes and
    mouths of the faces found must be far surer (FACE_FEATURE_MARGIN), and the growth does not carry
    marks into them. `unattended` (a fill nobody reviews) also drops compact thick marks
    (COMPACT_MARK_WIDTH).
    """
    import torch
    from torch.nn import functional as F

    h, w = rgb.shape[:2]
    # The network's logits for the whole photo, half precision: 2 bytes a pixel, and a mark's extent
    # (hysteresis) is only known once its neighbours in the next tile are.
    logits = np.empty((h, w), np.float16)
    # sensitivity 1 -> probability 0.5; 2 -> 0.33 (finds fainter damage); 0.5 -> 0.67.
    threshold = float(np.log(1.0 / sensitivity))  # the logit of 1 / (1 + sensitivity)
    protected = _face_features(rgb) if protect_faces else []
    device = torch.device(runtime.device)
    with torch.inference_mode():
        for win in windows(h, w, _MODEL_TILE, _MODEL_CONTEXT):
            tile = torch.from_numpy(np.ascontiguousarray(rgb[win.y0 : win.y1, win.x0 : win.x1])).permute(2, 0, 1)[None]
            ph, pw = (-(win.y1 - win.y0)) % 8, (-(win.x1 - win.x0)) % 8  # three poolings
            tile = F.pad(tile, (0, pw, 0, ph), mode="replicate").contiguous(memory_format=torch.channels_last)
            with runtime.autocast_context():
                tile_logits = net(tile.to(device)).float()[0, 0].cpu().numpy()
            logits[win.y : win.y_end, win.x : win.x_end] = np.clip(tile_logits[win.core_in_window], -60000, 60000)
    found = hysteresis(logits, threshold)
    _demand_certainty(found, logits, protected, threshold + FACE_FEATURE_MARGIN)
    found = drop_print_edges(found)
    if unattended:
        found = drop_compact_blobs(found)
    grown = grow_proposal(found, grow)
    for x0, y0, inside in protected:  # growth must not carry a nearby mark onto an eye or the lips
        ph, pw = inside.shape
        view, raw = grown[y0 : y0 + ph, x0 : x0 + pw], found[y0 : y0 + ph, x0 : x0 + pw]
        view[inside] = raw[inside]
    return grown


# Inside a face's eyes and mouth a mark needs this much more logit (p 0.5 -> 0.9 at sensitivity 1):
# on Kodak24 ScratchNet marked a girl's lips and a catchlight, which a fill would turn into a stranger's.
FACE_FEATURE_MARGIN = 2.2


def _face_features(rgb: np.ndarray) -> list:
    """The eyes and mouths of the faces in the photo (restorer.faces.features), or [] without a detector."""
    try:
        from restorer.faces.detect import detect_faces
        from restorer.faces.features import feature_patches

        return feature_patches(detect_faces(rgb), *rgb.shape[:2])
    except Exception:  # no face detector here (OpenCV without the DNN module, weights missing)
        return []


def _demand_certainty(found: np.ndarray, logits: np.ndarray, patches: list, strict: float) -> None:
    """Within `patches` (x0, y0, bool mask, each inside the photo) keep only the marks whose logit is
    above `strict`; in place."""
    for x0, y0, inside in patches:
        ph, pw = inside.shape
        view = found[y0 : y0 + ph, x0 : x0 + pw]
        view[inside] = logits[y0 : y0 + ph, x0 : x0 + pw][inside] > strict


def detect_scratches(rgb: np.ndarray, *, sensitivity: float = 1.0, engine: str = "auto",
                     models=None, grow: int = PROPOSAL_GROWTH, unattended: bool = False) -> np.ndarray:
    """Proposed damage mask for a photo; `sensitivity` > 1 finds fainter damage. `unattended`: the mask is
    filled without anyone reviewing it (batch runs), so marks shaped like objects are left out.

    `engine` "auto" uses ScratchNet when its weights are installed (from `models`, a
    ModelManager, or the shared one), else the classic detector.
    """
    if engine in ("auto", "model"):
        from restorer.errors import ModelUnavailable

        try:
            net, runtime = _scratch_network(models)
        except ModelUnavailable as exc:
            if engine == "model":
                raise
            # Said, not hidden: the classic detector finds a fraction of what ScratchNet finds.
            log.warning("%s Detect scratches falls back to the classic detector, which finds far less.",
                        str(exc).rstrip(".") + ".")
        else:
            return detect_scratches_model(rgb, net, runtime, sensitivity=sensitivity, grow=grow,
                                          unattended=unattended)
    return detect_scratches_classic(rgb, sensitivity=sensitivity)


def scratch_network_problem(models=None) -> str:
    """Why ScratchNet cannot run here (its weights missing or damaged), in one sentence; "" when it can."""
    from restorer.errors import ModelUnavailable

    try:
        _scratch_network(models)
    except ModelUnavailable as exc:
        return str(exc)
    return ""


def _scratch_network(models=None):
    """(ScratchNet, runtime) from `models` (a ModelManager) or the shared one; raises ModelUnavailable."""
    if models is None:
        from restorer.models.manager import shared_manager

        models = shared_manager("auto")
    return models.scratch_network()


def detect_scratches_classic(rgb: np.ndarray, *, sensitivity: float = 1.0) -> np.ndarray:
    """The morphological baseline: top-hat / black-hat lines and specks, filtered by shape and texture."""
    gray = luma(rgb)
    h, w = gray.shape
    short = min(h, w)
    # Scratches stay 1-4 pixels wide whatever the scan resolution, while letters, eyes and
    # brows grow with it: a fixed, thin probe responds to the first and only to edges of the rest.
    width = 2
    bright, dark = _responses(gray, width)
    # Threshold against the photo's own fine-detail level (robust MAD of the responses).
    scale = float(np.median(np.abs(bright - np.median(bright)))) * 1.4826 + 1e-3
    threshold = max(6.0 / sensitivity * scale, 0.06 / sensitivity)
    bright_mask = bright > threshold
    dark_mask = dark > threshold * 1.3
    min_line = short * 0.07
    max_speck = int(max(4, (short / 200) ** 2 * 4))
    texture = _texture(gray)
    calm, moderate = float(np.percentile(texture, 40)), float(np.percentile(texture, 75))
    found = _keep_damage(bright_mask, bright, texture, min_length=min_line, max_speck=max_speck,
                         speck_contrast=threshold * 2.0, speck_texture=calm, line_texture=moderate)
    # Dark parts must be much longer (eyes, lips, brows and hair are dark, short strokes).
    found |= _keep_damage(dark_mask, dark, texture, min_length=short * 0.2, max_speck=max_speck,
                          speck_contrast=threshold * 4.0, speck_texture=calm, line_texture=moderate)
    # Grow by a pixel or two: the fill must also cover the damage's soft edge.
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(1, width // 2) + 1,) * 2)
    return cv2.dilate(found.astype(np.uint8), grow) > 0
