"""Distil FastSR, the slider's fast mode, from the faithful <-> sharp RRDBNet pair.

Two steps, each resumable and time-bounded (`--minutes`):

1. `make-data`: teacher pairs. Low-resolution photo patches (`--patch`, 64 px
   by default) come from ../shared/data/train (with `--imagenet`, its
   imagenet_samples too), from photos shrunk by a random factor so content
   appears at many scales. Many are made to look like the prints the app
   enlarges (grey, toned, faded) and degraded as scans are (blur, grain,
   JPEG). The teacher is the app's own blended RRDBNet at an alpha drawn per
   shard (one third of them at the default 0.7, the rest anywhere in [0, 1]
   including both ends), on torch fp32 or the engine `--engine` names; each
   patch is enlarged at two alphas. The pairs are written as numbered shards
   (`.npz`), each atomically; a second session carries on from the last
   complete shard.
2. `train`: FastSR learns the teacher's output at the patch's alpha, with
   alpha as its input, so one student covers the whole slider. Loss is L1
   plus a squared-error term (the figure reported is PSNR against the
   teacher) on the centre of each patch: the teacher saw zero padding at the
   patch's border that a photo's interior never has. `--init` starts from an
   existing student, grown to `--channels` and `--layers` where it has fewer
   (with the same function to start from); `--holdout N`
   keeps the last N shards aside and reports the student's distance from the
   teacher on them.

Usage (the bundled file's commands, as recorded in weights/MANIFEST.md; its
starting point, v1, came from the same script with 64-px clean patches):
    python -m restorer.training.distill_sr make-data --data ../shared/data/train \
        --out runs/distill3 --shards 60 --patch 96 --engine onnxruntime-int8 --imagenet --seed 3 --minutes 40
    python -m restorer.training.distill_sr train --data ../shared/data/train --pairs runs/distill3 \
        --holdout 2 --channels 48 --layers 8 --iters 2600 --batch 8 --lr 5e-4 --mse 10 \
        --init /tmp/fastsr_v1.safetensors --minutes 68 --out weights/fastsr_x4.safetensors
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from restorer.colorspace import LUMA_WEIGHTS
from restorer.models.archs.fastsr import FastSR
from restorer.training.data import COLOUR_TRAIN_FOLDERS, to_nchw
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


def as_print(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sometimes the look of the prints the app enlarges: grey, toned (sepia or blue-black), or faded."""
    out = patch.astype(np.float32)
    u = rng.random()
    if u < 0.35:
        grey = out @ LUMA_WEIGHTS
        tone = np.ones(3, np.float32) if u < 0.2 else np.array(
            [1.0, rng.uniform(0.8, 0.95), rng.uniform(0.55, 0.85)] if u < 0.3 else [0.9, 0.95, 1.0], np.float32)
        out = grey[..., None] * tone
    if rng.random() < 0.3:  # faded: contrast squeezed towards a lifted mid-tone
        keep = float(rng.uniform(0.55, 0.9))
        out = out * keep + (1 - keep) * float(rng.uniform(110, 200))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def lr_patch(rng: np.random.Generator, images: list[np.ndarray], size: int = LR_SIZE) -> np.ndarray:
    """A uint8 (size, size, 3) patch of a photo shrunk by 1..4x, sometimes print-like, often degraded as
    scans that reach the enlargement are: soft, grainy, and JPEG-compressed (blocks and ringing), in the
    order a scan meets them. The teacher (Real-ESRGAN's side above all) cleans these up as it enlarges;
    a student trained on clean patches only learned to sharpen them instead (the example photo's JPEG
    blocks came out crisper, not gone)."""
    import cv2

    from restorer.training.data import random_crop
    from restorer.training.degradations import add_gaussian_noise, gaussian_blur, jpeg_roundtrip

    image = images[int(rng.integers(len(images)))]
    factor = float(rng.uniform(1.0, 4.0))
    if min(image.shape[:2]) / factor >= size:
        image = cv2.resize(image, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    patch = as_print(random_crop(rng, image, size), rng)
    if rng.random() < 0.2:
        patch = gaussian_blur(patch, float(rng.uniform(0.3, 1.0)))
    if rng.random() < 0.3:
        patch = add_gaussian_noise(patch, float(rng.uniform(1, 7)), rng, gray=rng.random() < 0.5)
    if rng.random() < 0.5:
        patch = jpeg_roundtrip(patch, int(rng.integers(20, 91)))
    return patch


def make_data(args: argparse.Namespace) -> None:
    import os

    from restorer.models.manager import ModelManager

    if args.engine:  # the teacher on another engine (an int8 one agrees with fp32 to ~45 dB and is ~3x faster)
        os.environ["RESTORER_ENGINE"] = args.engine
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = sorted(out.glob("shard-*.npz"))
    rng, images, _ = prepare(args, COLOUR_TRAIN_FOLDERS if args.imagenet else None)
    rng = np.random.default_rng([args.seed, len(done)])  # a resumed session draws new patches
    manager = ModelManager("cpu")
    deadline = None if args.minutes is None else time.time() + 60 * args.minutes
    for index in range(len(done), args.shards):
        if deadline is not None and time.time() >= deadline:
            print(f"time limit reached after {index} shards; run the same command again to continue", flush=True)
            return
        start = time.time()
        lows = np.stack([lr_patch(rng, images, args.patch) for _ in range(SHARD_PATCHES)])
        alphas = teacher_alphas(rng)
        x = torch.from_numpy(lows).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=torch.channels_last)
        highs = []
        for alpha in alphas:
            net, _ = manager.sr_network(alpha, "auto" if args.engine else "fp32")
            with torch.inference_mode():
                y = torch.cat([net(x[i : i + 8]) for i in range(0, len(x), 8)])
            highs.append((y.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy())
        tmp = out / f".shard-{index:04d}.tmp.npz"
        np.savez(tmp, lr=lows, hr=np.stack(highs), alpha=np.array(alphas, dtype=np.float32))
        tmp.replace(out / f"shard-{index:04d}.npz")
        print(f"shard {index + 1}/{args.shards}: alphas {alphas}, {time.time() - start:.0f} s", flush=True)


def shard_paths(folder: Path, holdout: int = 0) -> tuple[list[Path], list[Path]]:
    """(shards to train on, the last `holdout` shards kept aside to measure the student on)."""
    paths = sorted(Path(folder).glob("shard-*.npz"))
    if holdout and holdout >= len(paths):
        raise SystemExit(f"only {len(paths)} shards in {folder}: none would be left to train on after {holdout}")
    return paths[: len(paths) - holdout], paths[len(paths) - holdout:]


def load_pairs(folder: Path, paths: list[Path] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lr (P, n, n, 3), hr (P, 4n, 4n, 3), alpha (P,)): every (patch, alpha) pair of the shards (all in
    `folder` unless `paths` names them)."""
    lrs, hrs, alphas = [], [], []
    for path in sorted(Path(folder).glob("shard-*.npz")) if paths is None else paths:
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
    return to_nchw(x), to_nchw(y), torch.tensor(a)


def initial_student(channels: int, layers: int, init: Path | None) -> FastSR:
    """A fresh student, or the one in `init`, grown to `channels` and `layers` where it has fewer (same
    function: `fastsr.widened`, `fastsr.deepened`)."""
    if init is None:
        return FastSR(channels, layers)
    from safetensors.torch import load_file

    from restorer.models.archs.fastsr import deepened, from_state_dict, widened

    start = from_state_dict(load_file(str(init)))
    if start.layers > layers or start.channels > channels:
        raise SystemExit(f"{init} is {start.channels} channels by {start.layers} layers; a student can grow "
                         f"from it, not shrink to {channels} by {layers}")
    if start.channels != channels:
        print(f"growing {init}'s {start.channels} channels to {channels}", flush=True)
        start = widened(start, channels)
    if start.layers != layers:
        print(f"growing {init}'s {start.layers} layers to {layers}", flush=True)
        start = deepened(start, layers)
    return start


@torch.no_grad()
def held_out_psnr(net: FastSR, pairs) -> tuple[float, float]:
    """(student, bicubic) mean PSNR in dB against the teacher on held-out pairs, inside the loss zone."""
    lrs, hrs, alphas = pairs
    inner = slice(4 * BORDER, -4 * BORDER)
    was_training = net.training
    net.eval()
    student, bicubic = [], []
    for i in range(0, len(lrs), 16):
        x, y, a = (to_nchw(lrs[i: i + 16]), to_nchw(hrs[i: i + 16]), torch.from_numpy(alphas[i: i + 16]))
        base = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
        for got, into in ((net(x, a), student), (base, bicubic)):
            err = (got.clamp(0, 1) - y)[..., inner, inner].square().mean(dim=(1, 2, 3))
            into += (-10 * torch.log10(err)).tolist()
    net.train(was_training)
    return float(np.mean(student)), float(np.mean(bicubic))


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    training_shards, held_shards = shard_paths(args.pairs, args.holdout)
    pairs = load_pairs(args.pairs, training_shards)
    held = load_pairs(args.pairs, held_shards) if held_shards else None
    print(f"{len(pairs[0])} teacher pairs from {args.pairs}" +
          (f", {len(held[0])} held out" if held else ""), flush=True)
    device = torch.device(args.device)
    net = initial_student(args.channels, args.layers, args.init)
    # channels-last: oneDNN's convolutions train about a fifth faster in it on the CPU
    net = net.to(device, memory_format=torch.channels_last).train()
    trainer = Trainer(net, args.out, args.iters, args.lr, warmup=200, floor=0.02, clip=1.0,
                      rng=rng, **run_options(args))
    meta = {"channels": str(args.channels), "layers": str(args.layers), "teacher": "restorer-x4-psnr <-> x4plus"}
    inner = slice(4 * BORDER, -4 * BORDER)  # the loss zone: the patch less its border
    if held is not None:
        print("held out, student / bicubic against the teacher: %.2f / %.2f dB at the start" %
              held_out_psnr(net, held), flush=True)
    for step in trainer.steps():
        x, y, alpha = (t.to(device) for t in training_batch(rng, pairs, args.batch))
        x = x.contiguous(memory_format=torch.channels_last)
        with training_autocast(device):
            out = net(x, alpha)
        out = out.float()[..., inner, inner]
        y = y[..., inner, inner]
        loss = F.l1_loss(out, y) + args.mse * F.mse_loss(out, y)
        trainer.step(step, loss, meta)
    trainer.close()
    if held is not None:  # the weights as saved: averaged, fp16
        from safetensors.torch import load_file

        from restorer.models.archs.fastsr import from_state_dict

        saved = from_state_dict(load_file(str(args.out)))
        print("held out, student / bicubic against the teacher: %.2f / %.2f dB as saved" %
              held_out_psnr(saved, held), flush=True)


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
    data.add_argument("--patch", type=int, default=LR_SIZE, help="low-resolution patch side (pixels)")
    data.add_argument("--engine", help="teacher engine, e.g. onnxruntime-int8 (default: torch fp32)")
    data.add_argument("--imagenet", action="store_true", help="draw from train/imagenet_samples too")
    train_parser = sub.add_parser("train", help="train FastSR on the teacher pairs")
    add_common_arguments(train_parser, iters=4000, batch=8, lr=1e-3)
    train_parser.add_argument("--pairs", type=Path, required=True)
    train_parser.add_argument("--channels", type=int, default=64)
    train_parser.add_argument("--layers", type=int, default=16)
    train_parser.add_argument("--mse", type=float, default=10.0)
    train_parser.add_argument("--holdout", type=int, default=0,
                              help="keep the last N shards aside and report the student's PSNR on them")
    args = parser.parse_args(argv)
    if args.command == "make-data":
        make_data(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
