"""Train InpaintNet, the hole filler of the inpainting stage.

Pairs are made on the fly from ../shared/data/train: a crop (randomly
rescaled first, so textures appear at several sizes) and a damage mask drawn
by restorer.damage.training_mask — thin curved scratches, branching cracks,
dust specks, blobs and torn corners, alone or two kinds together. The
network sees only the pixels outside the mask.

Loss: L1 inside the hole (what the user will see) plus a smaller L1 over the
whole crop, and L1 on horizontal and vertical differences inside the hole, so
edges that cross a scratch continue instead of fading to a smear; the later
stages add a squared-error term in the hole (--mse).

Usage (the commands recorded in weights/MANIFEST.md: a first run, then five
continuations on larger crops, each from the previous weights):
    python -m restorer.training.train_inpaint --data ../shared/data/train \
        --iters 3000 --out /tmp/inpaintnet_stage1.safetensors
    python -m restorer.training.train_inpaint --data ../shared/data/train \
        --init /tmp/inpaintnet_stage1.safetensors --size 160 --lr 2e-4 --seed 1 \
        --iters 2400 --out /tmp/inpaintnet_stage2.safetensors
    python -m restorer.training.train_inpaint --data ../shared/data/train \
        --init /tmp/inpaintnet_stage2.safetensors --size 160 --lr 1.5e-4 --seed 2 \
        --iters 3000 --out /tmp/inpaintnet_stage3.safetensors
    python -m restorer.training.train_inpaint --data ../shared/data/train \
        --init /tmp/inpaintnet_stage3.safetensors --size 160 --lr 1e-4 --seed 3 \
        --iters 1800 --mse 5 --out /tmp/inpaintnet_stage4.safetensors
    python -m restorer.training.train_inpaint --data ../shared/data/train \
        --init /tmp/inpaintnet_stage4.safetensors --size 160 --lr 8e-5 --seed 4 \
        --iters 1500 --mse 5 --out /tmp/inpaintnet_stage5.safetensors
    python -m restorer.training.train_inpaint --data ../shared/data/train \
        --init /tmp/inpaintnet_stage5.safetensors --size 160 --lr 6e-5 --seed 5 \
        --iters 1500 --mse 5 --out weights/inpaintnet.safetensors
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from restorer.damage import training_mask
from restorer.models.archs.inpaintnet import InpaintNet
from restorer.training.data import random_scaled_crop, to_nchw
from restorer.training.loop import Trainer, add_common_arguments, load_initial, prepare, run_options, training_autocast


def make_batch(rng: np.random.Generator, images: list[np.ndarray], batch: int, size: int):
    crops, masks = [], []
    for _ in range(batch):
        crops.append(random_scaled_crop(rng, images, size))
        masks.append(training_mask(rng, size, size))
    mask = torch.from_numpy(np.stack(masks)[:, None].astype(np.float32))
    return to_nchw(crops), mask


def hole_loss(pred: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor, mse: float = 0.0) -> torch.Tensor:
    """L1 in the hole + 0.1 x L1 everywhere + L1 of the image gradients in the hole (+ `mse` x squared error in the hole).

    The squared-error term pulls a wide hole's fill towards the mean of what could be there
    rather than the median L1 pulls towards (the stage that added it gained 0.06-0.07 dB in
    eval blobs); the gradient term keeps the edges that cross the hole from fading.
    """
    hole_pixels = mask.sum() * 3 + 1.0
    inside = ((pred - truth).abs() * mask).sum() / hole_pixels
    if mse:
        inside = inside + mse * ((pred - truth).square() * mask).sum() / hole_pixels
    everywhere = (pred - truth).abs().mean()
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    gradients = (((dx(pred) - dx(truth)).abs() * mask[..., :, 1:]).sum()
                 + ((dy(pred) - dy(truth)).abs() * mask[..., 1:, :]).sum()) / (2 * hole_pixels)
    return inside + 0.1 * everywhere + 0.5 * gradients


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, iters=3000, batch=8, lr=5e-4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--mse", type=float, default=0.0, help="weight of the squared error in the hole")
    args = parser.parse_args(argv)

    rng, images, device = prepare(args)
    net = InpaintNet(args.width, args.blocks)
    load_initial(net, args.init)
    net = net.to(device).to(memory_format=torch.channels_last).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=100, floor=0.02, clip=1.0,
                      rng=rng, **run_options(args))
    meta = {"width": str(args.width), "blocks": str(args.blocks)}
    for step in trainer.steps():
        truth, mask = make_batch(rng, images, args.batch, args.size)
        truth, mask = truth.to(device), mask.to(device)
        with training_autocast(device):
            pred = net(truth.contiguous(memory_format=torch.channels_last), mask)
        trainer.step(step, hole_loss(pred.float(), truth, mask, args.mse), meta)
    trainer.close()


if __name__ == "__main__":
    main()
