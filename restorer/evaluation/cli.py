"""The `restorer eval` sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_eval_parser(sub) -> None:
    parser = sub.add_parser("eval", help="measure quality on a folder of reference images")
    tasks = parser.add_subparsers(dest="task", required=True)
    sr = tasks.add_parser("sr", help="x4 super resolution (PSNR/SSIM on Y against bicubic)")
    sr.add_argument("--data", type=Path, required=True)
    sr.add_argument("--alpha", type=float, default=0.0, help="0 faithful .. 1 sharp")
    sr.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    sr.add_argument("--checkpoint", default="", help="evaluate your own weights file instead")
    sr.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def command_eval(args: argparse.Namespace) -> int:
    if args.task == "sr":
        from restorer.evaluation.sr import evaluate_sr

        result = evaluate_sr(args.data, alpha=args.alpha, precision=args.precision, checkpoint=args.checkpoint)
        for row in result["per_image"]:
            print(f"{row['image']:<24} {row['psnr_y']:6.2f} dB  SSIM {row['ssim_y']:.4f}   "
                  f"bicubic {row['bicubic_psnr_y']:6.2f} dB")
        print(f"{Path(args.data).name}: x4 alpha {args.alpha:.2f} ({result['precision']}): "
              f"PSNR-Y {result['psnr_y']:.2f} dB, SSIM-Y {result['ssim_y']:.4f}; "
              f"bicubic {result['bicubic_psnr_y']:.2f} dB / {result['bicubic_ssim_y']:.4f} "
              f"({result['images']} images)")
        if args.json:
            summary = {k: v for k, v in result.items() if k != "per_image"}
            print(json.dumps(summary))
        return 0
    return 2
