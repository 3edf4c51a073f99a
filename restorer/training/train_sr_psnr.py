"""Train the faithful (PSNR) end of the super-resolution interpolation pair.

Network interpolation (ESRGAN, sec. 3.4) needs two networks of one
architecture that share a starting point. We start from Real-ESRGAN x4plus
(converted from the registry package) and fine-tune it with L1 loss (plus a
squared-error term in the last two runs, --mse) on
(LR, HR) pairs made from ../shared/data/train: HR patches, LR by Pillow
bicubic downscaling, a share of them (--degrade-p) with mild blur/noise/JPEG
so the faithful end does not sharpen scan noise into texture.

Usage (the bundled file's five runs, as recorded in weights/MANIFEST.md):
    python -m restorer.training.train_sr_psnr --data ../shared/data/train \
        --iters 2500 --lr 1e-4 --out /tmp/sr_stage1.safetensors
    python -m restorer.training.train_sr_psnr --data ../shared/data/train \
        --init /tmp/sr_stage1.safetensors --iters 3000 --lr 5e-5 --degrade-p 0.25 \
        --seed 1 --out /tmp/sr_stage2.safetensors
    python -m restorer.training.train_sr_psnr --data ../shared/data/train \
        --init /tmp/sr_stage2.safetensors --iters 3000 --lr 1e-4 --degrade-p 0.25 \
        --seed 2 --out /tmp/sr_stage3.safetensors
    python -m restorer.training.train_sr_psnr --data ../shared/data/train \
        --init /tmp/sr_stage3.safetensors --iters 3000 --lr 1e-4 --degrade-p 0.25 \
        --seed 4 --mse 10 --out /tmp/sr_stage4.safetensors
    python -m restorer.training.train_sr_psnr --data ../shared/data/train \
        --init /tmp/sr_stage4.safetensors --iters 2000 --lr 1e-4 --degrade-p 0.25 \
        --seed 5 --mse 10 --out weights/rrdbnet_x4_psnr.safetensors
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.nn import functional as F

from restorer.models.archs.rrdbnet import from_state_dict
from restorer.models.packaged import realesrgan_x4plus_state
from restorer.training.data import random_crop, to_nchw
from restorer.training.degradations import bicubic_downscale, mild_scan_degradation
from restorer.training.loop import Trainer, add_common_arguments, load_initial, prepare, run_options, training_autocast


def make_batch(rng: np.random.Generator, images: list[np.ndarray], batch: int, lr_size: int, degrade_p: float):
    """(LR, HR) float tensors in [0, 1], NCHW."""
    hr_size = lr_size * 4
    his, los = [], []
    for _ in range(batch):
        image = images[int(rng.integers(len(images)))]
        hr = random_crop(rng, image, hr_size)
        lr = bicubic_downscale(hr, 4)
        if rng.random() < degrade_p:
            lr = mild_scan_degradation(lr, rng)
        his.append(hr)
        los.append(lr)
    return to_nchw(los), to_nchw(his)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, iters=3000, batch=8, lr=5e-5)
    parser.add_argument("--lr-size", type=int, default=32, help="LR patch side in pixels")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--degrade-p", type=float, default=0.5)
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--mse", type=float, default=0.0,
                        help="weight of a squared-error term added to L1 (PSNR is a squared-error measure)")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    rng, images, device = prepare(args)
    net = from_state_dict(realesrgan_x4plus_state())
    # --init continues an earlier run (same architecture, so it still shares x4plus as its starting point).
    load_initial(net, args.init)
    net = net.to(device).to(memory_format=torch.channels_last).train()
    # EMA without warm-up: training starts from x4plus, already a good model.
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=args.warmup, ema_decay=args.ema, ema_warmup=False,
                      rng=rng, **run_options(args))
    for step in trainer.steps():
        lr_img, hr_img = make_batch(rng, images, args.batch, args.lr_size, args.degrade_p)
        lr_img = lr_img.to(device).contiguous(memory_format=torch.channels_last)
        with training_autocast(device):
            sr = net(lr_img)
        sr, hr_img = sr.float(), hr_img.to(device)
        loss = F.l1_loss(sr, hr_img)
        if args.mse:
            loss = loss + args.mse * F.mse_loss(sr, hr_img)
        trainer.step(step, loss, {"base": "realesrgan_x4plus", "loss": f"l1+{args.mse:g}*mse" if args.mse else "l1"})
    trainer.close()


if __name__ == "__main__":
    main()
