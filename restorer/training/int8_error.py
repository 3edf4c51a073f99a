"""How far the int8 engines fall from fp32: the x4 blend on photo crops, worst and mean dB.

    python -m restorer.training.int8_error --data ../shared/data/eval --alpha 0.7 --engine onnxruntime
    python -m restorer.training.int8_error --data ../shared/data/eval --alpha 0.7 --engine openvino

Runs the engine itself (`restorer.engines.int8` on ONNX Runtime, or
`restorer.engines.openvino_int8`), with the shipped per-channel calibration,
on 64-pixel centre crops of five Set5 and five Kodak24 photos, and reports
its output's PSNR against torch fp32. `--float-blocks` changes which RRDB
blocks stay in float (`none`, or a comma-separated list of indices), to see
what each costs. Not a test, not a benchmark: a diagnosis for whoever takes
int8 further.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def centre_crops(root: Path, side: int = 64) -> list:
    import cv2
    import torch

    crops = []
    for folder in ("Set5", "Kodak24"):
        for path in sorted((root / folder).glob("*.png"))[:5]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0
            h, w = image.shape[:2]
            crop = image[h // 2 - side // 2 : h // 2 + side // 2, w // 2 - side // 2 : w // 2 + side // 2]
            crops.append(torch.from_numpy(crop.transpose(2, 0, 1).copy())[None])
    return crops


def agreement(engine_name: str, alpha: float, crops: list, float_blocks: tuple[str, ...] | None = None
              ) -> tuple[float, float]:
    """(worst dB, mean dB) of int8 engine `engine_name` ("onnxruntime" or "openvino") against fp32 on `crops`."""
    import torch

    from restorer.engines.int8_scales import FLOAT_BLOCKS, bundled_table
    from restorer.models.archs.rrdbnet import RRDBNet, hyperparameters
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    faithful, sharp = ModelManager("cpu").sr_endpoints()
    state = blend(faithful, sharp, alpha)
    hyper = hyperparameters(faithful)
    net = RRDBNet(**hyper).eval()
    net.load_state_dict(state)
    blocks = FLOAT_BLOCKS if float_blocks is None else float_blocks
    if engine_name == "openvino":
        from restorer.engines.openvino_int8 import OpenVinoInt8RRDB

        engine = OpenVinoInt8RRDB(hyper, bundled_table(), float_blocks=blocks)
    else:
        from restorer.engines.int8 import OnnxInt8RRDB

        engine = OnnxInt8RRDB(hyper, bundled_table(), float_blocks=blocks)
    engine.load(state, alpha)
    scores = []
    with torch.no_grad():
        for crop in crops:
            mse = float(((engine(crop).clamp(0, 1) - net(crop).clamp(0, 1)) ** 2).mean())
            scores.append(10 * np.log10(1.0 / max(mse, 1e-20)))
    return float(np.min(scores)), float(np.mean(scores))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the eval/ folder (Set5 and Kodak24 in it)")
    parser.add_argument("--alpha", type=float, default=0.7)
    parser.add_argument("--engine", choices=("onnxruntime", "openvino"), default="onnxruntime")
    parser.add_argument("--float-blocks", default=None,
                        help="RRDB blocks kept in float: 'none' or indices such as 0,21,22 (default: the engine's)")
    args = parser.parse_args(argv)
    crops = centre_crops(args.data)
    if not crops:
        raise SystemExit(f"no Set5 or Kodak24 photos under {args.data}")
    blocks = None
    if args.float_blocks is not None:
        blocks = () if args.float_blocks == "none" else tuple(f"body.{int(i)}." for i in args.float_blocks.split(","))
    worst, mean = agreement(args.engine, args.alpha, crops, blocks)
    print(f"{args.engine} int8 at alpha {args.alpha}: worst {worst:.1f} dB, mean {mean:.1f} dB from fp32", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
