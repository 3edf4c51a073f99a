"""Distil FastSR, the slider's fast mode, from the faithful <-> sharp RRDBNet pair.

Two steps, each resumable and time-bounded (`--minutes`):

1. `make-data`: teacher pairs. Low-resolution photo patches (64x64) come from
   ../shared/data/train (photos shrunk by a random factor so content appears
   at many scales; some with mild JPEG or noise, as real inputs to the
   enlargement have). The teacher is the app's own blended RRDBNet at an alpha
   drawn per shard (one third of them at the default 0.7, the rest anywhere
   in [0, 1] including both ends); each patch is enlarged at two alphas. The
   pairs are written as numbered shards (`.npz`), each atomically; a second
   session carries on from the last complete shard.
2. `train`: FastSR learns the teacher's output at the patch's alpha, with
   alpha as its input, so one student covers the whole slider. Loss is L1
   plus a squared-error term (the figure reported is PSNR against the
   teacher) on the centre of each patch: the teacher saw zero padding at the
   patch's border that a photo's interior never has.

Usage (the bundled file's commands, as recorded in weights/MANIFEST.md):
    python -m restorer.training.distill_sr make-data --data ../shared/data/train \
        --out runs/distill --shards 24
    python -m restorer.training.distill_sr train --data ../shared/data/train --pairs runs/distill \
        --channels 32 --layers 8 --iters 6000 --batch 8 --lr 1e-3 --mse 10 \
        --out weights/fastsr_x4.safetensors
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from restorer.models.archs.fastsr import FastSR
from restorer.training.loop import Trainer, add_common_arguments, prepare, run_options, training_autocast

LR_SIZE = 64
SHARD_PATCHES = 32
BORDER = 8  # LR pixels at each patch edge left out of the loss (the teacher's zero-padding zone)
DEFAULT_ALPHA = 0.7


def teacher_alphas(rng: np.random.Generator) -> tuple[float, float]:
    """Two alphas for one shard: the default a third of the time, an end a fifth of the time, else anywhere."""
    def one() -> float:
        u = rng.random()
        if u < 1 / 3:
            return DEFAULT_ALPHA
        if u < 1 / 3 + 0.2:
            return float(rng.integers(0, 2))
        return float(np.round(rng.uniform(0, 1), 3))

    first = one()
    second = one()
    while second == first:
        second = float(np.round(rng.uniform(0, 1), 3))
    return first, second


def lr_patch(rng: np.random.Generator, images: list[np.ndarray]) -> np.ndarray:
    """A uint8 (LR_SIZE, LR_SIZE, 3) patch of a photo shrunk by 1..4x, sometimes mildly degraded."""
    import cv2

    from restorer.training.data import random_crop
    from restorer.training.degradations import add_gaussian_noise, jpeg_roundtrip

    image = images[int(rng.integers(len(images)))]
    factor = float(rng.uniform(1.0, 4.0))
    if min(image.shape[:2]) / factor >= LR_SIZE:
        image = cv2.resize(image, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    patch = random_crop(rng, image, LR_SIZE)
    if rng.random() < 0.25:
        patch = jpeg_roundtrip(patch, int(rng.integers(60, 96)))
    if rng.random() < 0.2:
        patch = add_gaussian_noise(patch, float(rng.uniform(1, 5)), rng)
    return patch


def make_data(args: argparse.Namespace) -> None:
    from restorer.models.manager import ModelManager

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = sorted(out.glob("shard-*.npz"))
    rng, images, _ = prepare(args)
    rng = np.random.default_rng([args.seed, len(done)])  # a resumed session draws new patches
    manager = ModelManager("cpu")
    deadline = None if args.minutes is None else time.time() + 60 * args.minutes
    for index in range(len(done), args.shards):
        if deadline is not None and time.time() >= deadline:
            print(f"time limit reached after {index} shards; run the same command again to continue", flush=True)
            return
        start = time.time()
        lows = np.stack([lr_patch(rng, images) for _ in range(SHARD_PATCHES)])
        alphas = teacher_alphas(rng)
        x = torch.from_numpy(lows).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=torch.channels_last)
        highs = []
        for alpha in alphas:
            net, _ = manager.sr_network(alpha, "fp32")
            with torch.inference_mode():
                y = torch.cat([net(x[i : i + 8]) for i in range(0, len(x), 8)])
            highs.append((y.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy())
        tmp = out / f".shard-{index:04d}.tmp.npz"
        np.savez(tmp, lr=lows, hr=np.stack(highs), alpha=np.array(alphas, dtype=np.float32))
        tmp.replace(out / f"shard-{index:04d}.npz")
        print(f"shard {index + 1}/{args.shards}: alphas {alphas}, {time.time() - start:.0f} s", flush=True)


def load_pairs(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lr (P, 64, 64, 3), hr (P, 256, 256, 3), alpha (P,)): every (patch, alpha) pair of every shard."""
    lrs, hrs, alphas = [], [], []
    for path in sorted(Path(folder).glob("shard-*.npz")):
        with np.load(path) as shard:
            for k, alpha in enumerate(shard["alpha"]):
                lrs.append(shard["lr"])
                hrs.append(shard["hr"][k])
                alphas.append(np.full(len(shard["lr"]), alpha, dtype=np.float32))
    if not lrs:
        raise SystemExit(f"no teacher pairs in {folder}; run make-data first")
    return np.concatenate(lrs), np.concatenate(hrs), np.concatenate(alphas)


def training_batch(rng: np.random.Generator, pairs, batch: int):
    """Whole patches (the student sees exactly what the teacher saw), flipped at random."""
    lrs, hrs, alphas = pairs
    x, y, a = [], [], []
    for _ in range(batch):
        i = int(rng.integers(len(lrs)))
        lo, hi = lrs[i], hrs[i]
        if rng.random() < 0.5:
            lo, hi = lo[:, ::-1], hi[:, ::-1]
        x.append(lo)
        y.append(hi)
        a.append(alphas[i])
    to = lambda arr: torch.from_numpy(np.ascontiguousarray(np.stack(arr))).permute(0, 3, 1, 2).float().div_(255)  # noqa: E731
    return to(x), to(y), torch.tensor(a)


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    pairs = load_pairs(args.pairs)
    print(f"{len(pairs[0])} teacher pairs from {args.pairs}", flush=True)
    device = torch.device(args.device)
    net = FastSR(args.channels, args.layers).to(device).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=200, floor=0.02, clip=1.0,
                      rng=rng, **run_options(args))
    meta = {"channels": str(args.channels), "layers": str(args.layers), "teacher": "restorer-x4-psnr <-> x4plus"}
    inner = slice(4 * BORDER, -4 * BORDER)  # the loss zone: the patch less its border
    for step in trainer.steps():
        x, y, alpha = (t.to(device) for t in training_batch(rng, pairs, args.batch))
        with training_autocast(device):
            out = net(x, alpha)
        out = out.float()[..., inner, inner]
        y = y[..., inner, inner]
        loss = F.l1_loss(out, y) + args.mse * F.mse_loss(out, y)
        trainer.step(step, loss, meta)
    trainer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("make-data", help="enlarge photo patches with the teacher at two alphas each")
    data.add_argument("--data", type=Path, required=True)
    data.add_argument("--out", type=Path, required=True, help="folder of shards")
    data.add_argument("--shards", type=int, default=60)
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--minutes", type=float)
    data.add_argument("--device", default="cpu")
    train_parser = sub.add_parser("train", help="train FastSR on the teacher pairs")
    add_common_arguments(train_parser, iters=4000, batch=8, lr=1e-3)
    train_parser.add_argument("--pairs", type=Path, required=True)
    train_parser.add_argument("--channels", type=int, default=64)
    train_parser.add_argument("--layers", type=int, default=16)
    train_parser.add_argument("--mse", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.command == "make-data":
        make_data(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
