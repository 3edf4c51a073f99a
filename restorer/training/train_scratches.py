"""Train ScratchNet, the damage detector that proposes the inpainting mask.

Photos from ../shared/data/train, made to look like scanned old prints (grey
or toned, faded, soft), get synthetic damage painted in with restorer.damage:
hairline scratches, branching cracks, fold cracks running edge to edge (a light
line with a shadow along one side, or only a faint crease), torn bands and
corners of bare paper (often with a darker rim where the emulsion curled),
lifted emulsion, dust specks bright and dark, at random opacity with soft
edges, over paper texture, then grain and JPEG on top, so the damage looks
scanned rather than drawn. A third of the crops stay undamaged. Look-alikes are
painted and never marked: lettering and handwriting, shop signs in large
capitals, striped and checked fabric, a print's own white border, eyes with
catchlights (a bright dot in a dark iris, like a dust speck); hair, wires and
sparkling water come with the photos. The target is the damage mask; loss is
binary cross-entropy with extra weight on the rare damaged pixels
(`--pos-weight`), plus a soft Dice term so thin lines are not traded away.

Each version starts from the one before, and the painter grew between them, so
weights/MANIFEST.md names the commit whose script made each. Scored against
damage hand-labelled on real prints with `restorer eval damage` (`--weights`
scores a candidate file).

Usage (v5, the bundled file, is this run's weights at step 1,750; the same command again continues a run
cut short by --minutes; the mined file comes from restorer.training.mine_negatives run with v4):
    python -m restorer.training.train_scratches --data ../shared/data/train \
        --init /tmp/scratchnet_v4.safetensors --iters 4000 --lr 3e-4 --seed 5 --pos-weight 2 \
        --imagenet --hard-negatives runs/scratch_negatives.npz --hard-p 0.25 \
        --minutes 80 --out runs/scratchnet_v5.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from restorer.colorspace import luma
from restorer.damage import crack_mask, dust_mask, fold_crack_mask, scratch_mask, speck_mask, tear_band_mask
from restorer.models.archs.scratchnet import ScratchNet
from restorer.training.data import (COLOUR_TRAIN_FOLDERS, TRAIN_FOLDERS, flip_and_turn, list_training_images,
                                   random_scaled_crop, to_nchw)
from restorer.training.loop import Trainer, add_common_arguments, load_initial, prepare, run_options, training_autocast


def paint_catchlights(rng: np.random.Generator, image: np.ndarray) -> None:
    """Paint 1-4 eye-like look-alikes in place: a dark iris with a small bright reflection in it."""
    h, w = image.shape[:2]
    for _ in range(int(rng.integers(1, 5))):
        radius = int(rng.integers(3, 11))
        cx, cy = int(rng.integers(radius, w - radius)), int(rng.integers(radius, h - radius))
        iris = float(rng.uniform(0.03, 0.3))
        cv2.ellipse(image, (cx, cy), (radius, max(2, int(radius * rng.uniform(0.6, 1.0)))), 0, 0, 360, (iris,) * 3, -1)
        glint = (cx + int(rng.integers(-radius // 2, radius // 2 + 1)), cy + int(rng.integers(-radius // 2, radius // 2 + 1)))
        cv2.circle(image, glint, int(rng.integers(0, 3)), (float(rng.uniform(0.8, 1.0)),) * 3, -1)


def old_print_look(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """A colour crop made to look like a scanned old print: grey or toned, faded, a little soft."""
    if rng.random() < 0.75:
        gray = luma(image)
        tone = np.ones(3, np.float32) if rng.random() < 0.5 else np.array(
            [1.0, rng.uniform(0.85, 0.95), rng.uniform(0.6, 0.8)], np.float32)  # sepia-ish
        image = gray[..., None] * tone
    if rng.random() < 0.5:
        low, high = rng.uniform(0.0, 0.2), rng.uniform(0.75, 1.0)
        image = low + (high - low) * image
    if rng.random() < 0.4:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.4, 1.0)))
    return np.ascontiguousarray(image, dtype=np.float32)


def paint_look_alikes(rng: np.random.Generator, image: np.ndarray) -> None:
    """Things that are not damage, in place: lettering, a print's border, catchlights."""
    h, w = image.shape[:2]
    if rng.random() < 0.3:  # handwriting or printed captions, white or dark
        font = (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_COMPLEX)[int(rng.integers(3))]
        word = "".join(chr(int(c)) for c in rng.integers(97, 123, size=int(rng.integers(3, 9))))
        value = float(rng.uniform(0.8, 1.0)) if rng.random() < 0.5 else float(rng.uniform(0.0, 0.2))
        ink = np.zeros((h, w), np.uint8)  # OpenCV draws text on 8-bit images only
        cv2.putText(ink, word, (int(rng.integers(0, w // 2)), int(rng.integers(h // 4, h))), font,
                    float(rng.uniform(0.4, 1.2)), 255, int(rng.integers(1, 3)), cv2.LINE_AA)
        alpha = ink.astype(np.float32)[..., None] / 255.0
        image[...] = image * (1 - alpha) + value * alpha
    if rng.random() < 0.2:  # the print's own border or mount, along one edge
        width = int(rng.integers(4, max(5, w // 4)))
        colour = np.array([rng.uniform(0.75, 1.0)] * 3, np.float32) * np.array([1, 0.97, 0.88], np.float32)
        edge = int(rng.integers(4))
        region = (np.s_[:width, :], np.s_[-width:, :], np.s_[:, :width], np.s_[:, -width:])[edge]
        image[region] = colour + rng.normal(0, 0.01, image[region].shape).astype(np.float32)
    if rng.random() < 0.25:
        paint_catchlights(rng, image)
    if rng.random() < 0.2:
        paint_signage(rng, image)
    if rng.random() < 0.25:
        paint_fabric(rng, image)


def paint_signage(rng: np.random.Generator, image: np.ndarray) -> None:
    """A shop sign in place: a plain board with large block capitals, light on dark or dark on light.

    Version 2 marked the bright strokes of painted letters as scratches (old_photos' cobbler's shop).
    """
    h, w = image.shape[:2]
    x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
    x1, y1 = int(rng.integers(x0 + w // 4, w + 1)), int(rng.integers(y0 + h // 6, h + 1))
    board, ink = (rng.uniform(0.0, 0.3), rng.uniform(0.75, 1.0)) if rng.random() < 0.5 else \
        (rng.uniform(0.6, 0.95), rng.uniform(0.0, 0.25))
    image[y0:y1, x0:x1] = board
    letters = np.zeros((h, w), np.uint8)
    word = "".join(chr(int(c)) for c in rng.integers(65, 91, size=int(rng.integers(2, 7))))
    scale = float(rng.uniform(0.8, 2.5))
    cv2.putText(letters, word, (x0 + int(rng.integers(0, 10)), min(h - 2, y0 + int(30 * scale))),
                cv2.FONT_HERSHEY_SIMPLEX if rng.random() < 0.5 else cv2.FONT_HERSHEY_DUPLEX, scale, 255,
                int(rng.integers(1, 6)), cv2.LINE_AA)
    alpha = letters.astype(np.float32)[..., None] / 255.0
    image[...] = image * (1 - alpha) + ink * alpha


def paint_fabric(rng: np.random.Generator, image: np.ndarray) -> None:
    """Stripes or checks over an ellipse of the crop in place, like a patterned dress or suit.

    Thin regular lines are not scratches; version 2 marked the checked dress in old_photos' Irish print.
    """
    h, w = image.shape[:2]
    region = np.zeros((h, w), np.float32)
    cv2.ellipse(region, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                (int(rng.integers(w // 8, w // 2)), int(rng.integers(h // 8, h // 2))), float(rng.uniform(0, 180)),
                0, 360, 1.0, -1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period, angle = float(rng.uniform(3, 10)), float(rng.uniform(0, np.pi))
    duty = float(rng.uniform(0.15, 0.5))
    along = (xx * np.cos(angle) + yy * np.sin(angle)) / period
    pattern = ((along - np.floor(along)) < duty).astype(np.float32)
    if rng.random() < 0.5:  # checks: a second set of lines across the first
        across = (-xx * np.sin(angle) + yy * np.cos(angle)) / period
        pattern = np.maximum(pattern, ((across - np.floor(across)) < duty).astype(np.float32))
    pattern = cv2.GaussianBlur(pattern, (0, 0), 0.6)
    contrast = float(rng.uniform(0.15, 0.5)) * (1 if rng.random() < 0.5 else -1)
    image[...] = np.clip(image + (contrast * pattern * region)[..., None], 0, 1)


# (kind, probability) of one damage layer. Version 3 added the fold crack (edge to edge, nearly
# straight, the commonest crack on real prints: old_photos' Irish and cobbler's prints) and the
# torn band of bare paper, which the earlier kinds (short zig-zag cracks, torn corners) never drew.
DAMAGE_KINDS = (("scratch", 0.2), ("crack", 0.15), ("fold", 0.15), ("speck", 0.15), ("dust", 0.1),
                ("tear", 0.05), ("band", 0.1), ("emulsion", 0.1))
_PAPER_SHOWS = ("tear", "crack", "emulsion", "fold", "band")  # bare paper: mostly bright, often a dark rim


def _damage_layer(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray, float, str]:
    """(bool damage mask, float alpha, value, kind) for one kind of damage."""
    kinds, weights = zip(*DAMAGE_KINDS)
    kind = str(rng.choice(kinds, p=weights))
    if kind == "scratch":
        part = scratch_mask(rng, h, w)
        if rng.random() < 0.5:  # real scratches are mostly hairline
            part = cv2.erode(part.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0 if part.sum() > 50 else part
    elif kind == "crack":
        part = crack_mask(rng, h, w)
    elif kind == "fold":
        part = fold_crack_mask(rng, h, w)
    elif kind == "band":
        part = tear_band_mask(rng, h, w)
    elif kind == "speck":
        part = speck_mask(rng, h, w)
    elif kind == "dust":
        part = dust_mask(rng, h, w)
    elif kind == "tear":  # a ragged piece of white paper showing through, sometimes at the crop's edge
        from restorer.damage import torn_corner_mask

        part = torn_corner_mask(rng, h, w)
    else:  # lifted emulsion: irregular blotches
        from restorer.damage import small_blob_mask

        part = small_blob_mask(rng, h, w)
        part = cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    bright = rng.random() < (0.9 if kind in _PAPER_SHOWS else 0.65)
    value = float(rng.uniform(0.8, 1.0) if bright else rng.uniform(0.0, 0.2))
    opacity = float(rng.uniform(0.6, 1.0) if kind in ("tear", "crack", "fold", "band") else rng.uniform(0.4, 1.0))
    if kind == "fold" and rng.random() < 0.4:  # a crease, not yet a crack: a faint light line
        opacity = float(rng.uniform(0.2, 0.6))
    alpha = part.astype(np.float32) * opacity
    if rng.random() < 0.6:
        alpha = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(0.4, 1.0)))
    return part, alpha, value, kind


def paint_damage(rng: np.random.Generator, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(damaged uint8 RGB, bool mask) for a uint8 RGB crop, looking like a scanned old print.

    Damage has rims: a bright crack or tear often has a darker edge where the emulsion
    curled (drawn, and marked, as part of the damage); grain and JPEG go on top of it all.
    """
    h, w = crop.shape[:2]
    image = old_print_look(rng, crop.astype(np.float32) / 255.0)
    paint_look_alikes(rng, image)  # before the damage: a scratch may still cross a letter or an eye
    mask = np.zeros((h, w), bool)
    if rng.random() < 0.65:
        for _ in range(int(rng.integers(1, 4))):
            part, alpha, value, kind = _damage_layer(rng, h, w)
            if kind == "fold" and rng.random() < 0.5:
                # A fold is a ridge: its light line has a shadow along one side, a pixel or two off.
                dy, dx = (int(v) for v in rng.integers(-2, 3, size=2))
                shadow = np.roll(part, (dy, dx), axis=(0, 1)) & ~part
                image = image * (1 - float(rng.uniform(0.2, 0.6)) * shadow[..., None])
                part = part | shadow
            elif kind in _PAPER_SHOWS and rng.random() < 0.5:
                rim = (cv2.dilate(part.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~part
                shade = float(rng.uniform(0.0, 0.35))
                image = image * (1 - 0.6 * rim[..., None]) + shade * 0.6 * rim[..., None]
                part = part | rim
            texture = value + rng.normal(0, 0.04, (h, w, 1)).astype(np.float32)  # paper is not flat
            image = image * (1 - alpha[..., None]) + texture * alpha[..., None]
            # The target is all the damage visibly changed, its soft halo included (v4): a fill must
            # cover it, and the labelled real prints mark it. Before, only the painted core was marked,
            # so ScratchNet learned to mark a dust speck's centre and leave its visible rim.
            mask |= part | (alpha > 0.25 * float(alpha.max()))
    if rng.random() < 0.6:
        image = image + rng.normal(0, rng.uniform(0.005, 0.04), (h, w, 1)).astype(np.float32)
    out = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    if rng.random() < 0.4:
        from restorer.training.degradations import jpeg_roundtrip

        out = jpeg_roundtrip(out, int(rng.integers(50, 95)))
    return out, mask


class HardNegatives:
    """Places an earlier ScratchNet marked on clean training photos (restorer.training.mine_negatives).

    v4 marked 1 % of clean Kodak photos, on tyre treads, beads, face paint and knits; a share of
    the crops is cut around such a place at the photo's own scale, so the next version sees those
    textures often. Damage may still be painted over the crop; the mined spot itself is never marked.
    """

    def __init__(self, paths: Path | list[Path], names: list[str]) -> None:
        """`paths`: one or more files of mine_negatives (each version's false alarms add to the last's)."""
        paths = [paths] if isinstance(paths, Path) else list(paths)
        index = {name: i for i, name in enumerate(names)}
        rows = []
        for path in paths:
            found = np.load(path)
            rows += [(index[n], int(y), int(x)) for n, y, x in zip(found["names"].tolist(), found["y"], found["x"])
                     if n in index]
        if not rows:
            raise ValueError(f"{', '.join(map(str, paths))} name none of the training photos")
        self.image, self.y, self.x = (np.array(column) for column in zip(*rows))

    def __len__(self) -> int:
        return len(self.image)

    def crop(self, rng: np.random.Generator, images: list[np.ndarray], size: int) -> np.ndarray:
        """A `size` square around a random mined spot (jittered by up to a third of it), flipped and turned."""
        i = int(rng.integers(len(self)))
        image = images[int(self.image[i])]
        h, w = image.shape[:2]
        if h < size or w < size:
            return random_scaled_crop(rng, images, size)
        jitter = size // 3
        y0 = int(np.clip(self.y[i] - size // 2 + rng.integers(-jitter, jitter + 1), 0, h - size))
        x0 = int(np.clip(self.x[i] - size // 2 + rng.integers(-jitter, jitter + 1), 0, w - size))
        return flip_and_turn(rng, image[y0 : y0 + size, x0 : x0 + size])


def make_batch(rng, images, batch: int, size: int, hard: HardNegatives | None = None, hard_p: float = 0.0):
    crops, masks = [], []
    for _ in range(batch):
        if hard is not None and rng.random() < hard_p:
            crop = hard.crop(rng, images, size)
        else:
            crop = random_scaled_crop(rng, images, size)
        damaged, mask = paint_damage(rng, crop)
        crops.append(damaged)
        masks.append(mask)
    return to_nchw(crops), torch.from_numpy(np.stack(masks)[:, None].astype(np.float32))


def detection_loss(logits: torch.Tensor, target: torch.Tensor, pos_weight: float = 4.0) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(pos_weight, device=logits.device))
    prob = torch.sigmoid(logits)
    dice = 1 - (2 * (prob * target).sum() + 1) / (prob.sum() + target.sum() + 1)
    return bce + 0.5 * dice


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, iters=4000, batch=12, lr=1e-3)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--pos-weight", type=float, default=4.0,
                        help="weight of damaged pixels in the cross-entropy (lower: fewer false alarms)")
    parser.add_argument("--imagenet", action="store_true",
                        help="also paint damage over train/imagenet_samples: a thousand more kinds of clean texture")
    parser.add_argument("--hard-negatives", type=Path, nargs="+",
                        help="places earlier versions marked on clean photos (restorer.training.mine_negatives)")
    parser.add_argument("--hard-p", type=float, default=0.3, help="share of crops cut around those places")
    args = parser.parse_args(argv)

    folders = COLOUR_TRAIN_FOLDERS if args.imagenet else TRAIN_FOLDERS
    rng, images, device = prepare(args, folders)
    hard = None
    if args.hard_negatives is not None:
        names = [str(p.relative_to(args.data)) for p in list_training_images(args.data, folders)]
        hard = HardNegatives(args.hard_negatives, names)
        print(f"{len(hard)} mined places to revisit", flush=True)
    net = ScratchNet(args.width)
    load_initial(net, args.init)
    net = net.to(device).to(memory_format=torch.channels_last).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=100, floor=0.02, clip=1.0,
                      rng=rng, **run_options(args))
    for step in trainer.steps():
        image, target = make_batch(rng, images, args.batch, args.size, hard, args.hard_p)
        with training_autocast(device):
            logits = net(image.to(device).contiguous(memory_format=torch.channels_last))
        trainer.step(step, detection_loss(logits.float(), target.to(device), args.pos_weight),
                     {"width": str(args.width)})
    trainer.close()


if __name__ == "__main__":
    main()
