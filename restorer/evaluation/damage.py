"""`restorer eval damage`: Detect scratches against damage hand-labelled on real prints, and on clean photos.

On each labelled print the detector's proposal (exactly as Detect Scratches
makes it in the window, or with `--unattended` as a batch run fills it) is scored against the mask (resources/labels/
old_photos_damage.json): precision, recall and IoU over the pixels, pooled over
the prints, pixels marked "not labelled" left out. On clean photos (Kodak24,
say) every marked pixel is a false alarm: the share of the area marked.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np


def score(proposal: np.ndarray, label: np.ndarray) -> dict:
    """Pixel counts of a bool proposal against a label mask (255 damage, 128 ignored, 0 clean)."""
    keep = label != 128
    truth = label == 255
    return {"tp": int((proposal & truth & keep).sum()), "fp": int((proposal & ~truth & keep).sum()),
            "fn": int((~proposal & truth & keep).sum())}


def _ratios(tp: int, fp: int, fn: int) -> dict:
    return {"precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
            "iou": tp / (tp + fp + fn) if tp + fp + fn else None}


def candidate_detector(weights: Path | None, grow: int | None = None, unattended: bool = False):
    """detect(rgb, sensitivity=...) for a ScratchNet weights file (a training candidate; None: the bundled
    one), its proposal grown by `grow` px (None: as the app grows it), exactly as the app runs it: as the
    window proposes it, or `unattended`, as a batch run fills it."""
    from restorer.models.archs import scratchnet
    from restorer.models.manager import network_from_file, shared_manager
    from restorer.models.precision import choose_runtime
    from restorer.stages.scratches import PROPOSAL_GROWTH, detect_scratches_model

    if weights is None:
        net, runtime = shared_manager("auto").scratch_network()
    else:
        runtime = choose_runtime()
        net = network_from_file(scratchnet, weights, runtime, channels_last=True)
    grow = PROPOSAL_GROWTH if grow is None else grow
    return lambda rgb, sensitivity=1.0: detect_scratches_model(rgb, net, runtime, sensitivity=sensitivity, grow=grow,
                                                               unattended=unattended)


def evaluate_damage(data: Path, labels: Path, clean: tuple[Path, ...] = (), sensitivity: float = 1.0,
                    weights: Path | None = None, grow: int | None = None, unattended: bool = False) -> dict:
    from restorer.evaluation.datasets import eval_images
    from restorer.imaging import read_photo
    from restorer.stages.scratches import PROPOSAL_GROWTH

    grow = PROPOSAL_GROWTH if grow is None else grow
    # Never the classic fallback: a missing network must fail the evaluation, not be scored in its place.
    detect = candidate_detector(weights, grow, unattended)

    doc = json.loads(Path(labels).read_text(encoding="utf-8"))
    totals = {"tp": 0, "fp": 0, "fn": 0}
    rows = []
    for relative, mask_name in doc["masks"].items():
        label = cv2.imread(str(Path(labels).parent / mask_name), cv2.IMREAD_GRAYSCALE)
        proposal = detect(read_photo(Path(data) / relative).float_pixels(), sensitivity=sensitivity)
        counts = score(proposal, label)
        for key in totals:
            totals[key] += counts[key]
        rows.append({"image": relative, **counts, **_ratios(**counts),
                     "marked_fraction": float(proposal.mean())})
    result = {"task": "damage", "prints": len(rows), "sensitivity": sensitivity, "grow": grow,
              "proposal": "unattended" if unattended else "window", **_ratios(**totals),
              "per_image": rows}
    for folder in clean:
        fractions = [float(detect(image.astype(np.float32) / 255.0, sensitivity=sensitivity).mean())
                     for _, image in eval_images(folder)]
        result[f"clean_{Path(folder).name}_marked"] = float(np.mean(fractions))
        result[f"clean_{Path(folder).name}_worst"] = float(np.max(fractions))
    return result
