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
    sr.add_argument("--precision", choices=("auto", "fp32", "bf16", "int8"), default="auto")
    sr.add_argument("--checkpoint", default="", help="evaluate your own weights file instead")
    sr.add_argument("--ensemble", action="store_true", help="average 8 flipped/rotated passes (8x slower)")
    sr.add_argument("--quality", choices=("best", "fast"), default="best",
                    help="fast: the FastSR student, also scored against the exact result at the same alpha")
    sr.add_argument("--json", action="store_true", help="print one JSON object as the last line")

    art = tasks.add_parser("artifacts", help="JPEG or noise removal against the degraded input and the classic engine")
    art.add_argument("--data", type=Path, required=True)
    kind = art.add_mutually_exclusive_group(required=True)
    kind.add_argument("--quality", type=int, help="Pillow JPEG quality (4:2:0)")
    kind.add_argument("--noise", type=float, help="Gaussian noise sigma on the 0-255 scale")
    art.add_argument("--strength", default="auto", help="'auto' or 0..100")
    art.add_argument("--engines", default="classic,model", help="comma-separated: classic,model")
    art.add_argument("--json", action="store_true")

    inp = tasks.add_parser("inpaint", help="fill seeded synthetic scratches or blobs; score engines and detection")
    inp.add_argument("--data", type=Path, required=True)
    inp.add_argument("--masks", choices=("scratches", "blobs"), required=True)
    inp.add_argument("--lama", default="", help="also score a LaMa TorchScript file (big-lama.pt)")
    inp.add_argument("--grain", choices=("on", "off"), default="on", help="fills get the photo's grain (as the app)")
    inp.add_argument("--json", action="store_true")

    seams = tasks.add_parser("seams", help="tiled against single-pass x4 on a photo crop: largest differences")
    seams.add_argument("--image", type=Path, required=True)
    seams.add_argument("--alpha", type=float, default=1.0)
    seams.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="fp32")
    seams.add_argument("--pads", default="64,80", help="comma-separated context widths to try")
    seams.add_argument("--json", action="store_true")

    col = tasks.add_parser("colorize", help="remove colour, colorize, compare (PSNR, colourfulness; with hints)")
    col.add_argument("--data", type=Path, required=True)
    col.add_argument("--hints", type=int, default=10, help="hints per image for the hinted run (0: skip it)")
    col.add_argument("--saturation", type=float, default=1.0)
    col.add_argument("--temperature", type=float, help="ColorNet's annealed-mean temperature (0: regression head)")
    col.add_argument("--holdout", action="store_true",
                     help="score only the photos colour training leaves out (for train/imagenet_samples)")
    col.add_argument("--tone", choices=("on", "off"), default="off",
                     help="the colour stage's tone step (default off: these figures score colour on the photo's own "
                          "L*; `eval revive` scores the tone step)")
    col.add_argument("--json", action="store_true")

    faces = tasks.add_parser("faces", help="face detection against labels; identity kept with face handling on/off")
    faces.add_argument("--data", type=Path, required=True, help="a folder of photos (../shared/data/old_photos)")
    faces.add_argument("--labels", type=Path, help="hand-labelled boxes (resources/labels/old_photos_faces.json)")
    faces.add_argument("--engines", default="retinaface,yunet", help="detectors to score against the labels")
    faces.add_argument("--no-identity", action="store_true", help="score detection only")
    faces.add_argument("--limit", type=int, help="measure identity on at most this many faces")
    faces.add_argument("--shifts", type=int, default=1,
                       help="measure each face at this many one-pixel offsets of its crop and average (up to 8)")
    faces.add_argument("--only", action="append", default=[], metavar="TEXT",
                       help="measure identity only on photos whose path contains TEXT (repeatable)")
    faces.add_argument("--face-strength", type=float,
                       help="the recipe's face strength for 'on' (default: the recipe's own, 0.7)")
    faces.add_argument("--json", action="store_true")

    rev = tasks.add_parser("revive", help="colour prints faded in simulation: revived, and healthy photos spared")
    rev.add_argument("--data", type=Path, required=True)
    rev.add_argument("--json", action="store_true")

    skin = tasks.add_parser("skin", help="colour photos with faces made grey: the faces' colour, skin step on and off")
    skin.add_argument("--data", type=Path, nargs="+", required=True, help="folders of colour photos (searched deeply)")
    skin.add_argument("--json", action="store_true")

    desc = tasks.add_parser("descreen", help="halftone prints simulated from clean photos: found and descreened")
    desc.add_argument("--data", type=Path, required=True)
    desc.add_argument("--jpeg", type=int, help="save each simulated scan as a JPEG of this quality first")
    desc.add_argument("--no-stage", action="store_true", help="skip the whole artifacts stage (faster)")
    desc.add_argument("--json", action="store_true")

    damage = tasks.add_parser("damage", help="Detect Scratches against damage hand-labelled on real prints")
    damage.add_argument("--data", type=Path, required=True, help="../shared/data/old_photos")
    damage.add_argument("--labels", type=Path, required=True, help="resources/labels/old_photos_damage.json")
    damage.add_argument("--clean", type=Path, action="append", default=[],
                        help="a folder of undamaged photos: the share of their area marked (repeatable)")
    damage.add_argument("--sensitivity", type=float, default=1.0)
    damage.add_argument("--weights", type=Path, help="score this ScratchNet file instead of the bundled one")
    damage.add_argument("--grow", type=int, help="grow the proposal by this many pixels (default: as the app does)")
    damage.add_argument("--unattended", action="store_true",
                        help="score the mask a batch run fills (run --detect-scratches), not the window's proposal")
    damage.add_argument("--json", action="store_true")


def _print_json(args: argparse.Namespace, result: dict) -> None:
    """With --json, the summary (without per-image rows) as the last line."""
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "per_image"}))


def command_eval(args: argparse.Namespace) -> int:
    if args.task == "sr":
        from restorer.evaluation.sr import evaluate_sr

        result = evaluate_sr(args.data, alpha=args.alpha, precision=args.precision, checkpoint=args.checkpoint,
                             ensemble=args.ensemble, quality=args.quality)
        for row in result["per_image"]:
            print(f"{row['image']:<24} {row['psnr_y']:6.2f} dB  SSIM {row['ssim_y']:.4f}   "
                  f"bicubic {row['bicubic_psnr_y']:6.2f} dB")
        ensemble = ", self-ensemble of 8" if args.ensemble else ""
        print(f"{Path(args.data).name}: x4 alpha {args.alpha:.2f} ({result['precision']}{ensemble}): "
              f"PSNR-Y {result['psnr_y']:.2f} dB, SSIM-Y {result['ssim_y']:.4f}; "
              f"bicubic {result['bicubic_psnr_y']:.2f} dB / {result['bicubic_ssim_y']:.4f} "
              f"({result['images']} images)")
        if "psnr_vs_exact" in result:
            print(f"  FastSR against the exact result at alpha {args.alpha:.2f}: {result['psnr_vs_exact']:.2f} dB "
                  f"(RGB); bicubic against it: {result['bicubic_psnr_vs_exact']:.2f} dB")
        _print_json(args, result)
        return 0
    if args.task == "artifacts":
        from restorer.evaluation.artifacts import evaluate_artifacts

        strength = args.strength if args.strength == "auto" else int(args.strength)
        engines = tuple(e for e in args.engines.split(",") if e)
        result = evaluate_artifacts(args.data, quality=args.quality, sigma=args.noise, strength=strength,
                                    engines=engines)
        what = f"JPEG q{args.quality}" if args.quality is not None else f"noise sigma {args.noise:g}"
        print(f"{Path(args.data).name}, {what}, {result['images']} images (PSNR RGB / PSNR-Y / SSIM-Y / PSNR-B-Y):")
        for method in ("input", *engines):
            print(f"  {method:<8} {result[method + '_psnr']:6.2f} / {result[method + '_psnr_y']:6.2f} / "
                  f"{result[method + '_ssim_y']:.4f} / {result[method + '_psnr_b']:6.2f}")
        _print_json(args, result)
        return 0
    if args.task == "inpaint":
        from restorer.evaluation.inpaint import evaluate_inpaint

        result = evaluate_inpaint(args.data, masks=args.masks, lama=args.lama, grain=args.grain == "on")
        detail = args.masks == "blobs"
        print(f"{Path(args.data).name}, {args.masks} ({result['mask_fraction'] * 100:.1f} % of the area), "
              f"{result['images']} images, grain {args.grain} (PSNR in mask / whole / SSIM-Y"
              + (" / detail ratio):" if detail else "):"))
        for engine in ("telea", "ns", "model", "lama"):
            if f"{engine}_psnr" in result:
                ratio = result[engine + "_detail_ratio"]
                print(f"  {engine:<6} {result[engine + '_psnr_masked']:6.2f} / {result[engine + '_psnr']:6.2f} / "
                      f"{result[engine + '_ssim_y']:.4f}" + (f" / {ratio:.2f}" if detail and ratio is not None else ""))
        for prefix, label in (("detect", "ScratchNet"), ("classic_detect", "classic")):
            if result.get(f"{prefix}_iou") is not None:
                print(f"  scratch detection ({label}): precision {result[prefix + '_precision']:.3f}, recall "
                      f"{result[prefix + '_recall']:.3f}, IoU {result[prefix + '_iou']:.3f}")
        _print_json(args, result)
        return 0
    if args.task == "seams":
        from restorer.evaluation.seams import measure_seams

        result = measure_seams(args.image, alpha=args.alpha, precision=args.precision,
                               pads=tuple(int(p) for p in args.pads.split(",")))
        print(f"{Path(args.image).name}, x4 alpha {args.alpha:g} ({result['runtime']}), tiles of {result['tile']} px; "
              "largest difference from one pass, levels of 255:")
        for row in result["pads"]:
            print(f"  context {row['pad']:>3} px: {row['max']:.2f} (at seams {row['at_seams']:.2f}, "
                  f"inside tiles {row['inside_tiles']:.2f})")
        _print_json(args, result)
        return 0
    if args.task == "colorize":
        from restorer.evaluation.colorize import evaluate_colorize

        result = evaluate_colorize(args.data, hints=args.hints, saturation=args.saturation,
                                   temperature=args.temperature, holdout=args.holdout, tone=args.tone == "on")
        print(f"{Path(args.data).name}, {result['images']} images "
              "(PSNR RGB / colourfulness vs truth / hue hit rate / chroma on saturated pixels / hue accuracy where coloured):")
        for method, label in (("gray", "grey"), ("model", "model"), ("hinted", f"{args.hints} hints")):
            if result.get(f"{method}_psnr") is not None:
                print(f"  {label:<9} {result[method + '_psnr']:6.2f} dB / {result[method + '_colorfulness_ratio']:.3f}"
                      f" / {result[method + '_hue_hit_rate'] or 0:.3f} / {result[method + '_chroma_on_saturated'] or 0:.3f}"
                      f" / {result[method + '_hue_accuracy'] or 0:.3f}")
        _print_json(args, result)
        return 0
    if args.task == "skin":
        from restorer.evaluation.skin import evaluate_skin

        result = evaluate_skin(args.data)
        if not result["faces"]:
            print("No colour photo with a face was found there.")
        else:
            print(f"{result['faces']} faces in {result['photos']} colour photos made grey (skin step off -> on): "
                  f"mean a*b* error {result['ab_error_off']:.2f} -> {result['ab_error_on']:.2f}, hue hit rate "
                  f"{result['hue_hit_rate_off']:.3f} -> {result['hue_hit_rate_on']:.3f}, PSNR of the photos "
                  f"{result['psnr_off']:.2f} -> {result['psnr_on']:.2f}; {result['faces_closer_with_skin']} faces closer")
        _print_json(args, result)
        return 0
    if args.task == "revive":
        from restorer.evaluation.revive import evaluate_revive

        result = evaluate_revive(args.data)
        print(f"{Path(args.data).name}, {result['images']} photos (PSNR RGB against the photo as it was): faded "
              f"{result['faded_psnr']:.2f}, revived {result['revived_psnr']:.2f}; a healthy photo after revival "
              f"{result['healthy_revived_psnr']:.2f} (worst {result['healthy_revived_psnr_worst']:.2f}; higher is "
              "less harm)")
        changed = result["healthy_auto_changed_psnr"]
        print(f"  auto (revives in proportion to the veil): faded {result['auto_revived_psnr']:.2f} "
              f"({result['auto_faded_revived_share']:.0%} revived); healthy photos left unchanged "
              f"{result['auto_healthy_unchanged_share']:.0%}" + (f", the others {changed:.2f}" if changed else ""))
        changed, worst = result["bw_healthy_changed_psnr"], result["bw_healthy_changed_worst"]
        print(f"  black-and-white prints (tone): faded {result['bw_faded_psnr']:.2f}, revived "
              f"{result['bw_revived_psnr']:.2f} ({result['bw_faded_revived_share']:.0%} revived); healthy greys "
              f"left unchanged {result['bw_healthy_unchanged_share']:.0%}"
              + (f", the others {changed:.2f} (worst {worst:.2f})" if changed else ""))
        _print_json(args, result)
        return 0
    if args.task == "descreen":
        from restorer.evaluation.descreen import evaluate_descreen

        result = evaluate_descreen(args.data, jpeg=args.jpeg, stage=not args.no_stage)
        for row in result["per_image"]:
            found = f"found {row['period_found']:.2f} px" if row["found"] else "MISSED"
            print(f"  {row['image']:<24} period {row['period']:.2f} px at {row['angle']:.0f}°: {found}"
                  f"{'  (false alarm on the clean photo)' if row['false_alarm'] else ''}")
        stage_text = f", artifacts stage {result['stage_psnr']:.2f}" if "stage_psnr" in result else ""
        print(f"{Path(args.data).name}, {result['images']} simulated halftone scans: found {result['detection_rate']:.0%} "
              f"(median period error {(result['period_error_median'] or 0) * 100:.1f} %), false alarms on the clean "
              f"photos {result['false_alarm_rate']:.0%}; PSNR scan {result['scan_psnr']:.2f}, descreened "
              f"{result['descreen_psnr']:.2f}{stage_text}, Gaussian blur at the true period {result['blur_psnr']:.2f} dB")
        if result["descreen_psnr_found"] is not None:
            print(f"  where the screen was found: descreened {result['descreen_psnr_found']:.2f}, Gaussian blur at the "
                  f"true period {result['blur_psnr_found']:.2f} dB")
        _print_json(args, result)
        return 0
    if args.task == "damage":
        from restorer.evaluation.damage import evaluate_damage

        result = evaluate_damage(args.data, args.labels, tuple(args.clean), args.sensitivity, args.weights,
                                 args.grow, args.unattended)
        for row in result["per_image"]:
            print(f"  {Path(row['image']).name:<40} precision {row['precision'] or 0:.3f}  recall "
                  f"{row['recall'] or 0:.3f}  IoU {row['iou'] or 0:.3f}  marked {row['marked_fraction'] * 100:.2f} %")
        print(f"{result['prints']} labelled prints ({result['proposal']} proposal): precision {result['precision'] or 0:.3f}, recall "
              f"{result['recall'] or 0:.3f}, IoU {result['iou'] or 0:.3f}")
        for key, value in result.items():
            if key.startswith("clean_") and key.endswith("_marked"):
                print(f"{key[6:-7]}: {value * 100:.3f} % of the area marked on average "
                      f"(worst photo {result[key[:-7] + '_worst'] * 100:.3f} %)")
        _print_json(args, result)
        return 0
    if args.task == "faces":
        from restorer.evaluation.faces import evaluate_faces
        from restorer.recipe import Recipe

        recipe = Recipe()
        if args.face_strength is not None:
            recipe = recipe.with_settings("upscale", face_strength=args.face_strength)
        result = evaluate_faces(args.data, labels=args.labels, engines=tuple(e for e in args.engines.split(",") if e),
                                identity=not args.no_identity, limit=args.limit, shifts=args.shifts,
                                only=tuple(args.only), recipe=recipe)
        for name, scores in result.get("detection", {}).items():
            print(f"{name:<11} recall {scores['recall']:.3f}  precision {scores['precision']:.3f}  "
                  f"({scores['matched']} of {scores['labelled']} labelled faces; {scores['found']} found)")
        if "identity" in result:
            ident = result["identity"]
            for row in ident["per_face"]:
                print(f"  {Path(row['image']).name:<40} on {row['similarity_on']:.3f}  off {row['similarity_off']:.3f}")
            if ident["faces"]:
                print(f"identity similarity, {ident['faces']} faces: face handling on {ident['identity_similarity_on']:.3f}, "
                      f"off {ident['identity_similarity_off']:.3f}; better with it on {ident['faces_better_with_handling']}, "
                      f"worse {ident['faces_worse_with_handling']}")
        if args.json:
            slim = json.loads(json.dumps(result))
            for scores in slim.get("detection", {}).values():
                scores.pop("per_image", None)
            if "identity" in slim:
                slim["identity"].pop("per_face", None)
            print(json.dumps(slim))
        return 0
    return 2
