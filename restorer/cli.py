"""Command line: `restorer [gui] [PHOTO]`, `restorer run`, `restorer provenance`, `restorer eval`, `restorer bench`.

Only this module turns errors into exit codes: 0 success (for a batch: every
photo restored or skipped), 3 some photos failed, 1 nothing succeeded, 2 bad
usage. Each failure is one sentence on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from restorer import __version__
from restorer.errors import RestorerError
from restorer.recipe import STAGE_ORDER, Recipe, RecipeError, load_hints, load_preset, preset_names

log = logging.getLogger("restorer")


def _stages(text: str) -> tuple[str, ...]:
    stages = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in stages if s not in STAGE_ORDER]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown stage {unknown[0]!r}; the stages are {','.join(STAGE_ORDER)}")
    return stages


def _word_or_number(words: tuple[str, ...], number: type, low: float, high: float, meaning: str):
    """An argparse type: one of `words`, or a `number` from `low` to `high`; `meaning` says so when it is not."""

    def parse(text: str):
        if text in words:
            return text
        try:
            value = number(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(meaning)
        return value

    return parse


_descreen = _word_or_number(("auto", "off"), float, 2.0, 32.0,
                            "descreen is 'auto', 'off' or a halftone period in pixels (2 to 32)")
_strength = _word_or_number(("auto",), int, 0, 100, "strength is 'auto' or a whole number from 0 to 100")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restorer", description="Bring old and damaged photographs back.")
    parser.add_argument("--version", action="version", version=f"restorer {__version__}")
    parser.add_argument("--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the window (the default with no command)")
    gui.add_argument("photo", nargs="?", type=Path)

    run = sub.add_parser("run", help="restore photos to an output folder")
    run.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="photos or folders of photos")
    run.add_argument("-o", "--outdir", type=Path, required=True, help="folder for the results (created if missing)")
    run.add_argument("--stages", type=_stages, help=f"comma-separated subset of {','.join(STAGE_ORDER)}")
    run.add_argument("--preset", help=f"named preset ({', '.join(preset_names()) or 'none installed'}) or a recipe .json")
    run.add_argument("--mask", type=Path, help="PNG mask, white where scratches and tears must be filled")
    run.add_argument("--scale", type=int, choices=(1, 2, 3, 4), help="enlargement factor")
    run.add_argument("--sr-alpha", type=float, help="0 faithful .. 1 sharp (Real-ESRGAN)")
    run.add_argument("--upscale-engine", choices=("realesrgan", "lanczos"))
    run.add_argument("--checkpoint", type=Path, help="your own ESRGAN/Real-ESRGAN weights (.pth or .safetensors)")
    run.add_argument("--artifacts-strength", type=_strength, help="'auto' or 0..100")
    run.add_argument("--artifacts-engine", choices=("model", "classic"))
    run.add_argument("--descreen", type=_descreen, metavar="auto|off|PERIOD",
                     help="find a printed photo's halftone screen and remove it (auto, the default), never (off), "
                          "or remove one of PERIOD scan pixels")
    run.add_argument("--inpaint-engine", choices=("model", "telea", "ns", "lama"))
    run.add_argument("--lama", type=Path, help="LaMa TorchScript file (big-lama.pt); implies --inpaint-engine lama")
    run.add_argument("--hints", type=Path, help="colour hints JSON: [[x, y, r, g, b], ...] or [{\"x\", \"y\", \"color\": \"#rrggbb\"}]")
    run.add_argument("--saturation", type=float, help="colour saturation, 0..3 (1 = as predicted)")
    run.add_argument("--colour-engine", "--color-engine", dest="colour_engine", choices=("auto", "revive", "model"),
                     help="auto (default): colorize black-and-white and sepia photos, revive faded colour; revive: "
                          "never colorize (keeps a photo's own colours); model: colorize every photo")
    run.add_argument("--tone", choices=("on", "off"),
                     help="give a faded black-and-white print its blacks back, in the colour stage (default on)")
    run.add_argument("--skin", choices=("on", "off"),
                     help="colour the faces of a black-and-white photo with skin's hue (default on)")
    run.add_argument("--colour-reference", "--color-reference", dest="colour_reference", type=Path, metavar="PHOTO",
                     help="a colour photo of a similar scene or era whose colours steer the colorization")
    run.add_argument("--sr-ensemble", action="store_true", default=None,
                     help="average 8 flipped/rotated passes: 8x slower, slightly more faithful")
    run.add_argument("--quality", choices=("best", "fast"),
                     help="best: the exact faithful-sharp blend; fast: a compact distilled network "
                          "(about 100x faster on a CPU, softer)")
    run.add_argument("--faces", choices=("on", "off"), help="keep faces faithful when enlarging (default on)")
    run.add_argument("--face-strength", type=float, metavar="S",
                     help="0..1: how much more faithful faces are than the rest (default 0.7)")
    run.add_argument("--fill-grain", choices=("on", "off"),
                     help="give filled areas the photo's own grain (default on; a clean photo gets none)")
    run.add_argument("--detect-scratches", action="store_true", help="also fill the scratches and dust the "
                     "detector finds (turns on filling)")
    run.add_argument("--save-mask", action="store_true", help="write the mask that was filled next to each result")
    run.add_argument("--tile", type=int, help="tile size in input pixels (smaller uses less memory)")
    run.add_argument("--precision", choices=("auto", "fp32", "bf16", "int8"),
                     help="auto: the fastest engine that keeps full accuracy on this machine (per-channel int8 on "
                          "OpenVINO or ONNX Runtime where it qualifies); int8: integer enlargement even where auto "
                          "would not choose it (within 0.07 dB of fp32 on Set5/Set14/BSD100 with VNNI)")
    run.add_argument("--device", choices=("auto", "cpu", "cuda", "mps", "vulkan"), default="auto",
                     help="where networks run: auto picks a CUDA or Apple GPU when there is one; vulkan runs the "
                          "enlargement on an AMD, Intel or Apple GPU through ncnn")
    run.add_argument("--format", dest="fmt", type=str.lower, choices=("png", "jpg", "jpeg", "tiff", "tif", "webp"),
                     help="output format (tif and jpeg are taken for tiff and jpg)")
    run.add_argument("--bit-depth", type=int, choices=(8, 16), help="output bit depth (default: the input's)")
    run.add_argument("--recursive", action="store_true", help="also take photos in sub-folders")
    run.add_argument("--resume", "--skip-existing", dest="resume", action="store_true",
                     help="continue an interrupted batch: the output folder's journal says what is done; "
                          "results it does not vouch for are left alone")
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="restore N photos at a time in worker processes (cores are divided between them)")
    run.add_argument("--cluster", metavar="ADDRESS",
                     help="run on a Dask cluster: a scheduler address (tcp://host:8786) or local:N for N local "
                          "workers; every worker must see the same paths")
    run.add_argument("--sidecar", action="store_true", help="write the recipe next to each result")
    run.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help="log each stage's note")

    from restorer.evaluation.cli import add_eval_parser

    add_eval_parser(sub)
    detect = sub.add_parser("detect", help="find faces, scratches and halftone screens; the last line is one JSON "
                                           "object")
    detect.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    detect.add_argument("--faces", action="store_true", help="find faces (all three when none is given)")
    detect.add_argument("--scratches", action="store_true", help="propose a scratch mask")
    detect.add_argument("--screens", action="store_true", help="find a printed photo's halftone screen")
    detect.add_argument("--mask-dir", type=Path, help="write each scratch proposal there as NAME_scratches.png")
    detect.add_argument("--json", action="store_true", help="print only the JSON object")

    provenance = sub.add_parser("provenance", help="print what Restorer did to a result (its XMP record)")
    provenance.add_argument("files", nargs="+", type=Path, metavar="FILE")
    provenance.add_argument("--json", action="store_true")

    models = sub.add_parser("models", help="list models, or download an official checkpoint")
    models.add_argument("action", nargs="?", choices=("list", "fetch"), default="list")
    models.add_argument("model_id", nargs="?")

    bench = sub.add_parser("bench", help="measure speed against a reference path in the same run")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--size", type=int, default=128, help="side of the square test input")
    bench.add_argument("--repeats", type=int, default=3)
    return parser


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    recipe = load_preset(args.preset) if args.preset else Recipe()
    if args.stages:
        recipe = recipe.with_enabled(set(args.stages))
    elif args.mask:
        recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"inpaint"})
    upscale = {k: v for k, v in {"scale": args.scale, "alpha": args.sr_alpha, "engine": args.upscale_engine,
                                   "tile": args.tile, "precision": args.precision, "ensemble": args.sr_ensemble,
                                   "checkpoint": str(args.checkpoint) if args.checkpoint else None,
                                   "faces": None if args.faces is None else args.faces == "on",
                                   "face_strength": args.face_strength, "quality": args.quality}.items()
               if v is not None}
    if upscale:
        recipe = recipe.with_settings("upscale", **upscale)
    if args.artifacts_strength is not None:
        recipe = recipe.with_settings("artifacts", strength=args.artifacts_strength)
    if args.artifacts_engine:
        recipe = recipe.with_settings("artifacts", engine=args.artifacts_engine)
    if args.descreen is not None:
        recipe = recipe.with_settings("artifacts", descreen=args.descreen)
    if args.hints:
        recipe = recipe.with_settings("colorize", hints=load_hints(args.hints))
        if not args.stages:
            recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"colorize"})
    if args.saturation is not None:
        recipe = recipe.with_settings("colorize", saturation=args.saturation)
    if args.colour_engine:
        recipe = recipe.with_settings("colorize", engine=args.colour_engine)
    if args.tone is not None:
        recipe = recipe.with_settings("colorize", tone=args.tone == "on")
    if args.skin is not None:
        recipe = recipe.with_settings("colorize", skin=args.skin == "on")
    if args.colour_reference:
        if not args.colour_reference.is_file():
            raise RecipeError(f"The colour reference {args.colour_reference} does not exist.")
        recipe = recipe.with_settings("colorize", reference=str(args.colour_reference.resolve()))
        if not args.stages:
            recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"colorize"})
    if args.detect_scratches:
        recipe = recipe.with_settings("inpaint", detect=True)
        if not args.stages:
            recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"inpaint"})
    if args.fill_grain is not None:
        recipe = recipe.with_settings("inpaint", grain=args.fill_grain == "on")
    if args.lama:
        recipe = recipe.with_settings("inpaint", engine="lama", model_path=str(args.lama))
    elif args.inpaint_engine:
        recipe = recipe.with_settings("inpaint", engine=args.inpaint_engine)
    return recipe


def command_run(args: argparse.Namespace) -> int:
    from restorer.batch import BatchOptions, DaskPlace, InProcess, LocalPool, expand_inputs, read_mask, run_batch
    from restorer.batch.jobs import left_out_sentence
    from restorer.batch.report import EXIT_NONE_SUCCEEDED, EXIT_USAGE

    if args.workers < 1:
        print("restorer: --workers needs a number of 1 or more.", file=sys.stderr)
        return EXIT_USAGE
    if args.workers > 1 and args.cluster:
        print("restorer: choose --workers or --cluster, not both.", file=sys.stderr)
        return EXIT_USAGE
    try:
        recipe = recipe_from_args(args)
        if args.mask:
            read_mask(args.mask)  # a bad mask is a bad argument: say so before any work starts
    except RestorerError as exc:
        print(f"restorer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.outdir.exists() and not args.outdir.is_dir():
        # Said before any photo is read: otherwise each would be restored and then thrown away.
        print(f"restorer: {args.outdir} is a file, not a folder; give -o a folder for the results.", file=sys.stderr)
        return EXIT_USAGE
    left_out: list[Path] = []
    jobs = expand_inputs(args.inputs, args.outdir, recursive=args.recursive, left_out=left_out)
    if not jobs:
        print(" ".join(filter(None, ("restorer: no photos found in the given folders.", left_out_sentence(left_out)))),
              file=sys.stderr)
        return EXIT_NONE_SUCCEEDED
    if left_out:  # said now as well as in the summary, so a long night does not start with a surprise
        print(f"restorer: {left_out_sentence(left_out)}", file=sys.stderr)
    options = BatchOptions(recipe.to_json(), str(args.mask.resolve()) if args.mask else None, args.fmt,
                           args.bit_depth, args.sidecar, args.save_mask, args.device)
    display = _BatchDisplay(len(jobs))
    if args.cluster:
        try:
            place = DaskPlace(args.cluster)
        except ImportError:
            print("restorer: --cluster needs Dask (pip install 'dask[distributed]').", file=sys.stderr)
            return EXIT_USAGE
        except (OSError, ValueError) as exc:
            print(f"restorer: cannot reach the Dask cluster {args.cluster} ({exc}).", file=sys.stderr)
            return EXIT_USAGE
    elif args.workers > 1:
        place = LocalPool(args.workers)
    else:
        place = InProcess(on_event=display.on_event)
    try:
        report = run_batch(jobs, options, place, args.outdir, resume=args.resume, on_outcome=display.on_outcome,
                           left_out=left_out)
    finally:
        place.close()
        display.clear()
    if len(jobs) > 1 or report.totals()["skipped"] or report.stopped or report.left_out:
        print(report.summary(), file=sys.stderr)
    return report.exit_code()


class _BatchDisplay:
    """The terminal side of a batch: a progress line, one line per finished photo, failures on stderr."""

    def __init__(self, total: int) -> None:
        from restorer.progress import ProgressLine

        self.bar, self.total, self.done, self.start = ProgressLine(), total, 0, None

    def on_event(self, task, event) -> None:
        from restorer.events import Progress, StageFinished

        name = Path(task.source).name
        if isinstance(event, Progress):
            prefix = f"{self.done + 1}/{self.total} " if self.total > 1 else ""
            self.bar.update(f"{prefix}{name}: {event.stage}", (self.done + event.overall) / self.total)
        elif isinstance(event, StageFinished) and event.note:
            log.info("%s: %s: %s (%.1f s)", name, event.stage, event.note, event.seconds)

    def on_outcome(self, outcome) -> None:
        import time

        self.start = self.start or time.monotonic()
        self.done += 1
        self.bar.clear()
        if outcome.status == "failed":
            print(f"restorer: {outcome.reason}", file=sys.stderr)
        elif outcome.carried_over:
            print(f"{outcome.source} -> {outcome.output} (restored by an earlier run)")
        elif outcome.status == "skipped":
            print(f"{outcome.source} -> {outcome.output} (already there, skipped)")
        else:
            print(f"{outcome.source} -> {outcome.output}")
            if outcome.reason:  # restored, with something the user must know (a multi-page TIFF)
                print(f"restorer: {outcome.reason}", file=sys.stderr)
        if self.done < self.total:
            self.bar.update(f"{self.done}/{self.total} photos", self.done / self.total)

    def clear(self) -> None:
        self.bar.clear()


def command_detect(args: argparse.Namespace) -> int:
    """Faces and scratch fractions per photo; a photo that cannot be read gets a sentence and an "error"."""
    import json

    from restorer.batch.report import EXIT_NONE_SUCCEEDED, EXIT_OK, EXIT_SOME_FAILED
    from restorer.detection import detect_photo

    asked = (args.faces, args.scratches, args.screens)
    faces, scratches, screens = asked if any(asked) else (True, True, True)
    rows, failures = [], 0
    for path in args.photos:
        try:
            row = detect_photo(path, faces=faces, scratches=scratches, screens=screens, mask_dir=args.mask_dir)
        except RestorerError as exc:
            failures += 1
            print(f"restorer: {exc}", file=sys.stderr)
            rows.append({"path": str(path), "faces": [], "scratch_fraction": None, "screen": None, "error": str(exc)})
            continue
        rows.append(row)
        if not args.json:
            scratch = "" if row["scratch_fraction"] is None else f", {row['scratch_fraction'] * 100:.2f} % scratches"
            screen = "" if row["screen"] is None else f", a halftone screen of {row['screen']['period']:.1f} px"
            print(f"{path}: {len(row['faces'])} face(s){scratch}{screen}")
    print(json.dumps({"photos": rows}))
    if failures == 0:
        return EXIT_OK
    return EXIT_NONE_SUCCEEDED if failures == len(rows) else EXIT_SOME_FAILED


def command_provenance(args: argparse.Namespace) -> int:
    """Print each file's Restorer record; 1 if a file has none or cannot be read."""
    import json

    from restorer.imaging import read_photo
    from restorer.provenance import read_provenance

    status, everything = 0, []
    for path in args.files:
        try:
            runs = read_provenance(read_photo(path).metadata.xmp)
        except RestorerError as exc:
            print(f"restorer: {exc}", file=sys.stderr)
            status = 1
            continue
        if not runs:
            print(f"restorer: {path.name} carries no Restorer record (it was not written by Restorer, or its "
                  "metadata was stripped).", file=sys.stderr)
            status = 1
            continue
        everything.append({"file": str(path), "runs": runs})
        if args.json:
            continue
        print(f"{path}:")
        for run in runs:
            print(f"  {run['when']}  {run['software']}  recipe {run['recipe_hash']}  engine {run['engine']}")
            for stage in run["stages"]:
                settings = ", ".join(f"{k}={v}" for k, v in stage["settings"].items() if v not in ("", [], None))
                print(f"    {stage['stage']}: {settings}" + (f"  ({stage['note']})" if stage["note"] else ""))
                for model in stage["models"]:
                    print(f"      model {model['id']}  sha256 {model['sha256']}")
    if args.json:
        print(json.dumps(everything))
    return status


def command_models(args: argparse.Namespace) -> int:
    from restorer.models import store
    from restorer.models.catalog import CATALOG
    from restorer.progress import ProgressLine

    if args.action == "list":
        for entry in CATALOG.values():
            state = {"package": "installed with Restorer", "bundled": "bundled"}.get(entry.source)
            if state is None:
                state = "downloaded" if store.is_installed(entry) else "not downloaded (restorer models fetch ID)"
            print(f"{entry.id:<24} {entry.title} [{entry.licence}] - {state}")
        return 0
    if not args.model_id:
        print("restorer: name the model to fetch; `restorer models` lists them.", file=sys.stderr)
        return 2
    bar = ProgressLine()
    path = store.fetch(args.model_id, progress=lambda done, total: bar.update(
        args.model_id, done / total if total else 0.0))
    bar.clear()
    print(f"{args.model_id} -> {path} (SHA-256 verified); use it with --checkpoint {path}")
    return 0


def command_gui(photo: Path | None) -> int:
    try:
        from restorer.gui.app import main as gui_main
    except ImportError as exc:
        print(f"restorer: the window cannot open because Qt is missing ({exc}).", file=sys.stderr)
        return 1
    return gui_main([str(photo)] if photo else [])


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        if args.command is None:
            if _has_display():
                return command_gui(None)
            parser.print_help()
            print("\nNo display found: use `restorer run PHOTO -o OUTDIR` to restore from the command line.",
                  file=sys.stderr)
            return 2
        if args.command == "gui":
            return command_gui(args.photo)
        if args.command == "run":
            return command_run(args)
        if args.command == "eval":
            from restorer.evaluation.cli import command_eval

            return command_eval(args)
        if args.command == "models":
            return command_models(args)
        if args.command == "provenance":
            return command_provenance(args)
        if args.command == "detect":
            return command_detect(args)
        if args.command == "bench":
            from restorer.bench import command_bench

            return command_bench(args)
    except RestorerError as exc:
        print(f"restorer: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("restorer: interrupted; results already written are complete, nothing half-written was left.",
              file=sys.stderr)
        return 130
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
