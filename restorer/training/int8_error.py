"""Where the int8 engine's error comes from: the x4 blend simulated in torch, one error source at a time.

    python -m restorer.training.int8_error --data ../shared/data/eval --alpha 0.7

Each int8 convolution of `restorer.engines.int8` has three rounding steps:
its input (uint8, one calibrated range per tensor), its weights (int8 per
output channel) and its output (uint8, calibrated). This script rounds only
some of them ("fake quantisation": round to the 8-bit grid, compute in float)
and reports how far the output falls from fp32, in dB PSNR, worst and mean
over 64-pixel centre crops of five Set5 and five Kodak24 photos. It also
tries input ranges taken from each crop as it runs ("dynamic"), which no
calibration can clip. The engine's own graph (ONNX Runtime) reproduces the
"everything" row to 0.1 dB. Not a test, not a benchmark: a diagnosis for
whoever takes int8 further.

    python -m restorer.training.int8_error --data ../shared/data/eval --alpha 0.7 --openvino

measures OpenVINO's int8 engine itself (per-channel scales folded into the
weights, `restorer.engines.openvino_int8`) on the same crops instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

CONFIGS = {  # name: (inputs, weights, outputs); inputs "static" (calibrated), "dynamic" or None
    "everything (the engine)": ("static", True, True),
    "weights only": (None, True, False),
    "inputs only": ("static", False, False),
    "outputs only": (None, False, True),
    "dynamic inputs only": ("dynamic", False, False),
    "dynamic inputs + weights, float outputs": ("dynamic", True, False),
}


def fake_uint8(x, lo: float, hi: float):
    """`x` rounded to the uint8 grid spanning [lo, hi] (which contains 0), back in float."""
    import torch

    from restorer.engines.int8 import _uint8_params

    scale, zero = (float(v) for v in _uint8_params(lo, hi))
    return (torch.clamp(torch.round(x / scale) + zero, 0, 255) - zero) * scale


def fake_int8_weights(w):
    """Symmetric per-output-channel int8 rounding, as `restorer.engines.int8.weight_params`."""
    import torch

    step = w.abs().flatten(1).amax(1).clamp_min(1e-12)[:, None, None, None] / 127.0
    return torch.round(w / step).clamp(-127, 127) * step


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


def simulate(alpha: float, crops: list) -> dict[str, tuple[float, float]]:
    """{config: (worst dB, mean dB)} against fp32 for each of CONFIGS."""
    import torch

    from restorer.engines.int8 import FLOAT_LAYERS, bundled_table, quantised_layers, ranges_at
    from restorer.models.archs.rrdbnet import RRDBNet, hyperparameters
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    faithful, sharp = ModelManager("cpu").sr_endpoints()
    net = RRDBNet(**hyperparameters(faithful)).eval()
    net.load_state_dict(blend(faithful, sharp, alpha))
    ranges = ranges_at(bundled_table(), alpha)
    layers = set(quantised_layers(net.state_dict(), FLOAT_LAYERS))
    modules = {name: m for name, m in net.named_modules() if name in layers}
    weights = {name: m.weight.data.clone() for name, m in modules.items()}
    with torch.no_grad():
        references = [net(c) for c in crops]
    results = {}
    for config, (inputs, round_weights, outputs) in CONFIGS.items():
        hooks = []
        for name, module in modules.items():
            module.weight.data = fake_int8_weights(weights[name]) if round_weights else weights[name]
            r = ranges[name]
            if inputs == "static":
                hooks.append(module.register_forward_pre_hook(lambda m, a, r=r: (fake_uint8(a[0], *r["in"]),)))
            elif inputs == "dynamic":
                hooks.append(module.register_forward_pre_hook(
                    lambda m, a: (fake_uint8(a[0], min(0.0, float(a[0].min())), max(0.0, float(a[0].max()))),)))
            if outputs:
                hooks.append(module.register_forward_hook(lambda m, a, y, r=r: fake_uint8(y, *r["out"])))
        scores = []
        with torch.no_grad():
            for crop, reference in zip(crops, references):
                mse = float(((net(crop).clamp(0, 1) - reference.clamp(0, 1)) ** 2).mean())
                scores.append(10 * np.log10(1.0 / max(mse, 1e-20)))
        for hook in hooks:
            hook.remove()
        results[config] = (float(np.min(scores)), float(np.mean(scores)))
    for name, module in modules.items():
        module.weight.data = weights[name]
    return results


def openvino_agreement(alpha: float, crops: list) -> tuple[float, float]:
    """(worst dB, mean dB) of OpenVINO's int8 engine against fp32 on `crops` at `alpha`."""
    import torch

    from restorer.engines.openvino_int8 import OpenVinoInt8RRDB, bundled_table
    from restorer.models.archs.rrdbnet import RRDBNet, hyperparameters
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    faithful, sharp = ModelManager("cpu").sr_endpoints()
    state = blend(faithful, sharp, alpha)
    net = RRDBNet(**hyperparameters(faithful)).eval()
    net.load_state_dict(state)
    engine = OpenVinoInt8RRDB(hyperparameters(faithful), bundled_table())
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
    parser.add_argument("--openvino", action="store_true", help="measure OpenVINO's int8 engine instead")
    args = parser.parse_args(argv)
    crops = centre_crops(args.data)
    if not crops:
        raise SystemExit(f"no Set5 or Kodak24 photos under {args.data}")
    if args.openvino:
        worst, mean = openvino_agreement(args.alpha, crops)
        print(f"OpenVINO int8: worst {worst:.1f} dB, mean {mean:.1f} dB from fp32", flush=True)
        return 0
    for config, (worst, mean) in simulate(args.alpha, crops).items():
        print(f"{config}: worst {worst:.1f} dB, mean {mean:.1f} dB from fp32", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
