"""Measure the int8 engines' per-channel activation peaks for the x4 blend, at several Look alphas.

    python -m restorer.training.calibrate_int8 --data ../shared/data/train --per-channel \\
        --out weights/rrdbnet_x4_int8_peaks.npz

Each dense block's feature maps are measured channel by channel
(`restorer.engines.int8_scales`), for both int8 engines (ONNX Runtime's and
OpenVINO's). `--per-channel` is the only kind now and may be left out; an
earlier per-tensor table for ONNX Runtime was retired with the engine that read it.

Each alpha blends the bundled faithful network with x4plus and runs it on the
same crops: photos from train/ (imagenet_samples included, for colour) shrunk
by a random factor of 1-4, softly or crisply, then cut to 64-pixel squares. The peaks
(`restorer.engines.int8_scales.calibrate_peaks`) go to one .npz the engines interpolate
between. Deterministic for a given --seed; a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def calibration_crops(root: Path, count: int, side: int, seed: int) -> list:
    """`count` RGB float tensors (1, 3, side, side) from the training photos under `root`."""
    import cv2
    import torch

    from restorer.training.data import COLOUR_TRAIN_FOLDERS, list_training_images, load_images

    rng = np.random.default_rng(seed)
    paths = list_training_images(root, COLOUR_TRAIN_FOLDERS)  # imagenet_samples: saturated colours too
    chosen = [paths[i] for i in rng.choice(len(paths), size=count, replace=False)]
    crops = []
    for image in load_images(chosen):
        factor = rng.uniform(1.0, 4.0)
        h, w = image.shape[:2]
        # Half the crops shrunk softly (area averaging), half crisply (bicubic, some aliasing): inputs
        # differ in sharpness, and the crisp ones reach the extreme activations.
        interpolation = cv2.INTER_AREA if rng.random() < 0.5 else cv2.INTER_CUBIC
        small = cv2.resize(image, (max(side, int(w / factor)), max(side, int(h / factor))), interpolation=interpolation)
        y = int(rng.integers(0, small.shape[0] - side + 1))
        x = int(rng.integers(0, small.shape[1] - side + 1))
        crop = small[y:y + side, x:x + side].astype(np.float32) / 255.0
        crops.append(torch.from_numpy(crop.transpose(2, 0, 1)[None].copy()))
    return crops


def synthetic_crops(count: int, side: int, seed: int) -> list:
    """`count` RGB float tensors (1, 3, side, side) of what photos rarely hold but scans of prints, signs and
    graphics do: flat saturated primaries and secondaries, black and white, in stripes and blocks of random
    widths with crisp or slightly soft edges, some with black or white lettering. Photos alone left the
    per-channel ranges too narrow for them: colour bars came out 22 dB from fp32, with streaks. Adding
    these fixed that but cost photos more than 0.1 dB on Set5, so the shipped file does without them
    (weights/MANIFEST.md, "not kept")."""
    import cv2
    import torch

    rng = np.random.default_rng(seed + 1)
    palette = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 0]],
                       np.float32)
    crops = []
    for index in range(count):
        image = np.empty((side, side, 3), np.float32)
        edges = np.sort(rng.integers(1, side, size=rng.integers(2, 9)))
        for start, stop in zip(np.r_[0, edges], np.r_[edges, side]):
            image[:, start:stop] = palette[rng.integers(len(palette))]
        if index % 2:  # blocks rather than stripes
            image = np.ascontiguousarray(np.rot90(image))
            image[: side // 2] = image[: side // 2, ::-1]
        if rng.random() < 0.5:
            image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 1.5)))
        if index % 3 == 0:
            u8 = (image * 255).astype(np.uint8)
            ink = (0, 0, 0) if rng.random() < 0.5 else (255, 255, 255)
            cv2.putText(u8, "Ag 19", (2, side // 2), cv2.FONT_HERSHEY_SIMPLEX, side / 80, ink, 2)
            image = u8.astype(np.float32) / 255
        crops.append(torch.from_numpy(image.transpose(2, 0, 1)[None].copy()))
    return crops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the train/ folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--alphas", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--crops", type=int, default=32)
    parser.add_argument("--side", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-channel", action="store_true",
                        help="per-channel peaks of every dense block (.npz): the only kind, kept for old commands")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="add this many synthetic crops of saturated flat colour and lettering")
    args = parser.parse_args(argv)

    import torch

    from restorer.engines.int8_scales import calibrate_peaks, save_table
    from restorer.models.archs.rrdbnet import RRDBNet, hyperparameters
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    torch.set_num_threads(max(1, torch.get_num_threads()))
    psnr, gan = ModelManager("cpu").sr_endpoints()
    crops = calibration_crops(args.data, args.crops, args.side, args.seed)
    crops += synthetic_crops(args.synthetic, args.side, args.seed)
    alphas = sorted(float(a) for a in args.alphas.split(","))
    start = time.time()
    tables = []
    for alpha in alphas:
        net = RRDBNet(**hyperparameters(psnr)).eval()
        net.load_state_dict(blend(psnr, gan, alpha))
        tables.append(calibrate_peaks(net, crops))
        print(f"alpha {alpha}: {len(tables[-1])} layers, {time.time() - start:.0f} s", flush=True)
    meta = {"crops": args.crops, "synthetic": args.synthetic, "side": args.side, "seed": args.seed,
            "data": str(args.data), "seconds": round(time.time() - start)}
    save_table(args.out, alphas, tables, meta)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
