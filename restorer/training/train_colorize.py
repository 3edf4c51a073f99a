"""Train ColorNet, the automatic and hint-guided colorizer.

Pairs come from ../shared/data/train: colour crops (randomly rescaled, so
objects appear at many sizes) give the target chroma a*b*; their lightness,
degraded like old film (grain, blur, faded contrast), is the input. Half the
samples carry hints: a few small patches of the true chroma at random places,
as a user's clicks would give (Zhang et al. 2017).

Plain L1 regression pulls colour towards grey-brown, the average of
everything. Two counters, both from Zhang et al. 2016: the main loss is
cross-entropy over a grid of a*b* bins (soft targets: each true colour split
bilinearly over its four nearest bin centres), which keeps "red or blue"
apart instead of averaging them; and each pixel's loss is weighted by how rare
its chroma is in the training data (weight ~ p^-1/2, capped), so saturated
skies, foliage and clothes count. A lighter L1 term trains the regression
head, kept for comparison (`temperature=None`).

Usage (the commands recorded in weights/MANIFEST.md: then two continuations on
larger crops, where a hint must carry further and more of the scene is seen):
    python -m restorer.training.train_colorize --data ../shared/data/train \
        --iters 4000 --out /tmp/colornet_stage1.safetensors
    python -m restorer.training.train_colorize --data ../shared/data/train \
        --init /tmp/colornet_stage1.safetensors --size 160 --batch 10 --lr 2e-4 \
        --seed 1 --iters 2600 --out /tmp/colornet_stage2.safetensors
    python -m restorer.training.train_colorize --data ../shared/data/train \
        --init /tmp/colornet_stage2.safetensors --size 192 --batch 7 --lr 1e-4 \
        --seed 2 --iters 2000 --hint-p 0.6 --out weights/colornet.safetensors
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from restorer.colorspace import rgb_to_lab
from restorer.models.archs.colornet import GRID, ColorNet
from restorer.training.data import COLOUR_TRAIN_FOLDERS, random_crop
from restorer.training.loop import Trainer, add_common_arguments, prepare, run_options, training_autocast

AB_SCALE = 110.0
BINS = GRID  # the rebalancing histogram uses the network's own a*b* grid
REGRESSION_WEIGHT = 4.0


def chroma_weights(images: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """(BINS, BINS) loss weights ~ (smoothed p)^-1/2, mean 1 over the data, capped at 6."""
    hist = np.zeros((BINS, BINS))
    for image in images:
        small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
        lab = rgb_to_lab(small.astype(np.float32) / 255.0)
        idx = np.clip(((lab[..., 1:] + AB_SCALE) / (2 * AB_SCALE) * BINS).astype(int), 0, BINS - 1)
        np.add.at(hist, (idx[..., 0].ravel(), idx[..., 1].ravel()), 1)
    p = cv2.GaussianBlur(hist / hist.sum(), (5, 5), 1.0) + 1e-6
    weights = np.minimum(p ** -0.5, np.percentile(p ** -0.5, 99))
    weights /= (weights * p).sum() / p.sum()  # expected weight 1 under the data
    return np.minimum(weights, 6.0).astype(np.float32)


def film_lightness(light: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Old-film look on L in [0, 1]: faded contrast, softness, grain."""
    out = light
    if rng.random() < 0.5:
        low, high = rng.uniform(0.0, 0.15), rng.uniform(0.8, 1.0)
        out = low + (high - low) * out
    if rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 1.2)))
    if rng.random() < 0.5:
        out = out + rng.normal(0, rng.uniform(0.005, 0.04), out.shape).astype(np.float32)
    return np.clip(out, 0, 1).astype(np.float32)


def sample_hints(ab: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """(3, H, W): a, b of `count` small patches (mean true chroma) and their mask."""
    h, w = ab.shape[:2]
    hints = np.zeros((3, h, w), dtype=np.float32)
    for _ in range(count):
        size = int(rng.integers(1, 6))
        y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        mean = ab[y : y + size, x : x + size].reshape(-1, 2).mean(axis=0)
        hints[0, y : y + size, x : x + size] = mean[0]
        hints[1, y : y + size, x : x + size] = mean[1]
        hints[2, y : y + size, x : x + size] = 1.0
    return hints


def make_batch(rng, images, batch: int, size: int, hint_p: float = 0.5, hint_mean: float = 8.0):
    lights, hints, targets = [], [], []
    for _ in range(batch):
        image = images[int(rng.integers(len(images)))]
        scale = float(rng.uniform(0.35, 1.0))  # see objects at many sizes
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if min(small.shape[:2]) < size:
            small = cv2.resize(image, (max(size, image.shape[1] * size // min(image.shape[:2])),
                                       max(size, image.shape[0] * size // min(image.shape[:2]))))
        crop = random_crop(rng, small, size, rotate=False).astype(np.float32) / 255.0
        lab = rgb_to_lab(crop)
        ab = lab[..., 1:] / AB_SCALE
        count = 0 if rng.random() < 1 - hint_p else int(min(30, rng.geometric(1 / hint_mean)))
        lights.append(film_lightness(lab[..., 0] / 100.0, rng)[None])
        hints.append(sample_hints(ab, rng, count))
        targets.append(ab.transpose(2, 0, 1))
    return (torch.from_numpy(np.stack(lights)), torch.from_numpy(np.stack(hints)),
            torch.from_numpy(np.ascontiguousarray(np.stack(targets))))


def soft_bin_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-pixel CE (N, H, W) against a*b* targets (N, 2, H, W) in [-1, 1], split over 4 nearest bins.

    Computed as logsumexp - sum(q * logit) with gathers, so the dense (N, K, H, W) target never exists.
    """
    pos = ((target + 1) / 2 * GRID - 0.5).clamp(0, GRID - 1 - 1e-4)
    low = pos.floor()
    frac = pos - low
    low = low.long()
    ia0, ib0 = low[:, 0], low[:, 1]
    fa, fb = frac[:, 0], frac[:, 1]
    ia1, ib1 = (ia0 + 1).clamp(max=GRID - 1), (ib0 + 1).clamp(max=GRID - 1)
    expected = torch.zeros_like(fa)
    for ia, ib, weight in ((ia0, ib0, (1 - fa) * (1 - fb)), (ia0, ib1, (1 - fa) * fb),
                           (ia1, ib0, fa * (1 - fb)), (ia1, ib1, fa * fb)):
        expected = expected + weight * logits.gather(1, (ia * GRID + ib)[:, None])[:, 0]
    return torch.logsumexp(logits, dim=1) - expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, iters=4000, batch=16, lr=5e-4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--hint-p", type=float, default=0.5, help="share of crops that carry hints")
    parser.add_argument("--hint-mean", type=float, default=8.0,
                        help="mean number of hints on a crop that has them (geometric, at most 30)")
    args = parser.parse_args(argv)

    rng, images, device = prepare(args, COLOUR_TRAIN_FOLDERS)
    weights = torch.from_numpy(chroma_weights(images, rng)).to(device)
    print(f"chroma weights {float(weights.min()):.2f}..{float(weights.max()):.2f}", flush=True)
    net = ColorNet(args.width)
    if args.init is not None:  # weights without the global branch load too: it starts at zero
        from safetensors.torch import load_file

        from restorer.models.archs.colornet import from_state_dict

        net.load_state_dict(from_state_dict(load_file(str(args.init))).state_dict())
        print(f"starting from {args.init}", flush=True)
    net = net.to(device).to(memory_format=torch.channels_last).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=100, floor=0.02, clip=1.0,
                      rng=rng, **run_options(args))
    for step in trainer.steps():
        batch = make_batch(rng, images, args.batch, args.size, args.hint_p, args.hint_mean)
        light, hints, target = (t.to(device) for t in batch)
        with training_autocast(device):
            pred, logits = net.heads(light.contiguous(memory_format=torch.channels_last), hints)
        idx = ((target + 1) / 2 * BINS).long().clamp_(0, BINS - 1)
        pixel_weight = weights[idx[:, 0], idx[:, 1]]
        regression = F.smooth_l1_loss(pred.float(), target, reduction="none", beta=0.05).sum(1)
        half_target = F.avg_pool2d(target, 2)
        half_idx = ((half_target + 1) / 2 * BINS).long().clamp_(0, BINS - 1)
        classification = soft_bin_cross_entropy(logits.float(), half_target) * weights[half_idx[:, 0], half_idx[:, 1]]
        loss = (classification.mean() + REGRESSION_WEIGHT * (regression * pixel_weight).mean())
        trainer.step(step, loss, {"width": str(args.width)})
    trainer.close()


if __name__ == "__main__":
    main()
