"""Train ScratchNet, the damage detector that proposes the inpainting mask.

Photos from ../shared/data/train (half of them turned black-and-white, as
most damaged prints are) get synthetic damage painted in with
restorer.damage: scratches and cracks (bright where emulsion is gone, dark
where dirt or a crease is), dust specks, at random opacity, with soft edges
and a touch of grain on top, so the painted lines look scanned rather than
drawn. A quarter of the crops stay undamaged: hair, eyelashes, wires, text and
sparkling water are what the network must learn to leave alone, and some
crops get painted eyes with catchlights (a bright dot in a dark iris, the
look-alike of a dust speck), never marked as damage. The target is
the damage mask; loss is binary cross-entropy with extra weight on the rare
damaged pixels, plus a soft Dice term so thin lines are not traded away.

Usage (the command recorded in weights/MANIFEST.md):
    python -m restorer.training.train_scratches --data ../shared/data/train \
        --iters 2500 --out weights/scratchnet.safetensors
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from restorer.damage import crack_mask, scratch_mask, speck_mask
from restorer.models.archs.scratchnet import ScratchNet
from restorer.training.data import random_scaled_crop, to_nchw
from restorer.training.loop import Trainer, add_common_arguments, prepare, training_autocast


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


def paint_damage(rng: np.random.Generator, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(damaged uint8 RGB, bool mask) for a uint8 RGB crop."""
    h, w = crop.shape[:2]
    image = crop.astype(np.float32) / 255.0
    if rng.random() < 0.5:
        gray = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        image = np.repeat(gray[..., None], 3, axis=2)
    image = np.ascontiguousarray(image)
    if rng.random() < 0.3:
        paint_catchlights(rng, image)  # before the damage: a scratch may still cross an eye
    mask = np.zeros((h, w), bool)
    if rng.random() < 0.75:
        kinds = (scratch_mask, crack_mask, speck_mask)
        for _ in range(int(rng.integers(1, 3))):
            part = kinds[int(rng.choice(3, p=[0.5, 0.25, 0.25]))](rng, h, w)
            bright = rng.random() < 0.65
            value = rng.uniform(0.75, 1.0) if bright else rng.uniform(0.0, 0.25)
            opacity = rng.uniform(0.5, 1.0)
            alpha = part.astype(np.float32) * opacity
            if rng.random() < 0.6:
                alpha = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(0.4, 1.0)))
            image = image * (1 - alpha[..., None]) + value * alpha[..., None]
            mask |= part
    if rng.random() < 0.5:
        image = image + rng.normal(0, rng.uniform(0.005, 0.03), (h, w, 1)).astype(np.float32)
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8), mask


def make_batch(rng, images, batch: int, size: int):
    crops, masks = [], []
    for _ in range(batch):
        damaged, mask = paint_damage(rng, random_scaled_crop(rng, images, size))
        crops.append(damaged)
        masks.append(mask)
    return to_nchw(crops), torch.from_numpy(np.stack(masks)[:, None].astype(np.float32))


def detection_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(4.0, device=logits.device))
    prob = torch.sigmoid(logits)
    dice = 1 - (2 * (prob * target).sum() + 1) / (prob.sum() + target.sum() + 1)
    return bce + 0.5 * dice


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, iters=4000, batch=12, lr=1e-3)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--width", type=int, default=16)
    args = parser.parse_args(argv)

    rng, images, device = prepare(args)
    net = ScratchNet(args.width).to(device).to(memory_format=torch.channels_last).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=100, floor=0.02, clip=1.0,
                      rng=rng, minutes=args.minutes, fresh=args.fresh)
    for step in trainer.steps():
        image, target = make_batch(rng, images, args.batch, args.size)
        with training_autocast(device):
            logits = net(image.to(device).contiguous(memory_format=torch.channels_last))
        trainer.step(step, detection_loss(logits.float(), target.to(device)), {"width": str(args.width)})
    trainer.close()


if __name__ == "__main__":
    main()
