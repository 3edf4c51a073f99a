"""Train ArtifactNet, the JPEG-and-noise remover of the artifacts stage.

Pairs are made on the fly from ../shared/data/train: a clean crop, and the
same crop after one of
  - JPEG at quality 5..95 (mostly 4:2:0 chroma, as cameras and the web make),
  - Gaussian noise (sigma 0..50, colour or grey "grain") or Poisson noise,
  - noise followed by JPEG (a noisy camera's JPEG),
  - double JPEG (a re-saved web copy),
  - nothing at all (so that a clean photo is left alone).
The JPEG is applied to a larger crop that is then cut at a random offset, so
the network sees every phase of the 8x8 block grid. The strength map the
network receives is the degradation level: max((95 - q) / 90, sigma / 50).

Usage (the commands recorded in weights/MANIFEST.md: a 10-block network, then
grown to 20 blocks from its weights with --init and trained on five times,
from the fourth run with a squared-error term, the last two on larger patches
so that training sees more of the 20-block network's field of view):
    python -m restorer.training.train_artifacts --data ../shared/data/train \
        --iters 6000 --out /tmp/artifactnet_stage1.safetensors
    python -m restorer.training.train_artifacts --data ../shared/data/train \
        --init /tmp/artifactnet_stage1.safetensors --blocks 20 --lr 2e-4 --seed 1 \
        --iters 9000 --out /tmp/artifactnet_stage2.safetensors
    python -m restorer.training.train_artifacts --data ../shared/data/train \
        --init /tmp/artifactnet_stage2.safetensors --blocks 20 --lr 1.5e-4 --seed 2 \
        --iters 6000 --out /tmp/artifactnet_stage3.safetensors
    python -m restorer.training.train_artifacts --data ../shared/data/train \
        --init /tmp/artifactnet_stage3.safetensors --blocks 20 --lr 1e-4 --seed 3 \
        --iters 8000 --mse 10 --out /tmp/artifactnet_stage4.safetensors
    python -m restorer.training.train_artifacts --data ../shared/data/train \
        --init /tmp/artifactnet_stage4.safetensors --blocks 20 --size 128 --batch 12 \
        --lr 6e-5 --seed 5 --iters 4000 --mse 10 --out /tmp/artifactnet_stage5.safetensors
    python -m restorer.training.train_artifacts --data ../shared/data/train \
        --init /tmp/artifactnet_stage5.safetensors --blocks 20 --size 160 --batch 8 \
        --lr 4e-5 --seed 6 --iters 3000 --mse 10 --out weights/artifactnet.safetensors
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.nn import functional as F

from restorer.models.archs.artifactnet import ArtifactNet
from restorer.training.data import random_crop, to_nchw
from restorer.training.degradations import add_gaussian_noise, add_poisson_noise, jpeg_roundtrip
from restorer.training.loop import Trainer, add_common_arguments, prepare, run_options, training_autocast


def load_deepened(net: ArtifactNet, path) -> None:
    """Start `net` from a trained ArtifactNet with as many or fewer residual blocks.

    The trained blocks are copied in order; each extra block gets its second
    convolution zeroed, so it starts as the identity and the deeper network
    begins exactly where the trained one stands (Net2Net-style growth).
    """
    from safetensors.torch import load_file

    from restorer.models.archs.artifactnet import from_state_dict

    trained = from_state_dict(load_file(str(path)))
    if trained.blocks > net.blocks or trained.features != net.features:
        raise SystemExit(f"{path}: {trained.blocks} blocks of {trained.features} features "
                         f"cannot grow into {net.blocks} blocks of {net.features}")
    own = net.state_dict()
    own.update(trained.state_dict())
    for block in range(trained.blocks, net.blocks):
        own[f"body.{block}.conv2.weight"].zero_()
        own[f"body.{block}.conv2.bias"].zero_()
    net.load_state_dict(own, strict=True)
    print(f"starting from {path} ({trained.blocks} blocks grown to {net.blocks})", flush=True)


def strength_for(quality: int | None, sigma: float) -> float:
    """The strength the stage will pass for this degradation (shared with inference)."""
    from_jpeg = 0.0 if quality is None else (95 - quality) / 90
    return float(np.clip(max(from_jpeg, sigma / 50), 0.0, 1.0))


def degrade(rng: np.random.Generator, crop: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(clean, degraded, strength) for a crop of side size + 16."""
    kind = rng.choice(["jpeg", "noise", "noise+jpeg", "double", "clean"], p=[0.4, 0.2, 0.2, 0.12, 0.08])
    subsampling = 2 if rng.random() < 0.8 else 0
    quality, sigma = None, 0.0
    out = crop
    if kind in ("noise", "noise+jpeg"):
        if rng.random() < 0.2:
            peak = float(rng.uniform(5, 60))
            out = add_poisson_noise(out, peak, rng)
            sigma = float(np.sqrt(0.5 * 255.0 * 255.0 / peak))  # noise std at mid-grey
        else:
            sigma = float(rng.uniform(1, 50))
            out = add_gaussian_noise(out, sigma, rng, gray=rng.random() < 0.3)
    if kind in ("jpeg", "noise+jpeg"):
        quality = int(rng.integers(5, 96))
        out = jpeg_roundtrip(out, quality, subsampling=subsampling)
    if kind == "double":
        q1, q2 = int(rng.integers(10, 96)), int(rng.integers(10, 96))
        shift = int(rng.integers(0, 8))  # the second save often sees a cropped, shifted grid
        first = jpeg_roundtrip(out, q1, subsampling=subsampling)
        second = jpeg_roundtrip(first[shift:, shift:], q2, subsampling=subsampling)
        out = np.pad(second, ((shift, 0), (shift, 0), (0, 0)), mode="edge")
        quality = min(q1, q2)
    low = 8 if kind == "double" else 0  # skip the edge-padded strip the shifted re-save left
    y, x = int(rng.integers(low, 17)), int(rng.integers(low, 17))
    clean, noisy = crop[y : y + size, x : x + size], out[y : y + size, x : x + size]
    return clean, noisy, strength_for(quality, sigma)


def make_batch(rng, images, batch: int, size: int):
    cleans, noisys, strengths = [], [], []
    for _ in range(batch):
        crop = random_crop(rng, images[int(rng.integers(len(images)))], size + 16)
        clean, noisy, strength = degrade(rng, crop, size)
        cleans.append(clean)
        noisys.append(noisy)
        strengths.append(strength)
    strength = torch.tensor(strengths, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, size, size)
    return to_nchw(noisys), strength.contiguous(), to_nchw(cleans)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, iters=3000, batch=16, lr=4e-4)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--mse", type=float, default=0.0,
                        help="weight of a squared-error term added to L1 (PSNR is a squared-error measure)")
    args = parser.parse_args(argv)

    rng, images, device = prepare(args)
    net = ArtifactNet(args.features, args.blocks)
    if args.init is not None:
        load_deepened(net, args.init)
    net = net.to(device).to(memory_format=torch.channels_last).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=100, floor=0.02, clip=0.5,
                      rng=rng, **run_options(args))
    meta = {"features": str(args.features), "blocks": str(args.blocks)}
    for step in trainer.steps():
        noisy, strength, clean = make_batch(rng, images, args.batch, args.size)
        noisy = noisy.to(device).contiguous(memory_format=torch.channels_last)
        with training_autocast(device):
            out = net(noisy, strength.to(device))
        out, clean = out.float(), clean.to(device)
        loss = F.l1_loss(out, clean)
        if args.mse:
            loss = loss + args.mse * F.mse_loss(out, clean)
        trainer.step(step, loss, meta)
    trainer.close()


if __name__ == "__main__":
    main()
