"""`restorer eval faces`: are faces found, and do they stay the same person?

Detection: against hand-labelled boxes (resources/labels/old_photos_faces.json),
recall and precision at IoU 0.5 for each detector, each prediction matched to
at most one label (highest IoU first).

Identity: each face found is restored with a recipe (the default one: artifacts,
colour, x4 at Look 0.7) on a crop around it, once with face handling on and
once off. The recipe's `auto` choices are made on the whole photo, as a user's
run makes them (a crop has no JPEG tables and shows more grain per pixel: auto
artifact strength on AirmanDad was 22 on the photo and 33 on a face's crop,
on SchoolKids 47 and 92). A face-recognition network embeds the face before
(the crop enlarged x4 by bicubic: what the photo showed) and after; identity
similarity is 1 - the embeddings' distance. Both are embedded in lightness
(CIE L*, which the colorizer keeps) only: colour that the colorizer adds to a grey print changes no feature of a
face, but it moved dlib's embedding by 0.16-0.22 on its own. The network is
dlib's ResNet face descriptor (Davis King, released as CC0 / public domain;
registry packages dlib-bin and face-recognition-models), which calls two
faces the same person below a distance of 0.6. It is needed only for this
evaluation:
    pip install dlib-bin face-recognition-models

One face's figure is noisy: moving the crop by one pixel moved it by up to
0.2 on a blindfolded face and by 0.05 on others, and turned the sign of
on - off on some faces. `shifts` > 1 measures each face at that many one-pixel
offsets of its crop and averages them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from restorer.faces.detect import Face, iou

IOU_MATCH = 0.5
CROP_MARGIN = 0.75  # of the face box, on each side: context for the stages, as in a real photo


def match(predicted: list[tuple], labelled: list[tuple], threshold: float = IOU_MATCH) -> int:
    """How many predictions match a label (IoU >= threshold), each label and prediction used once."""
    pairs = sorted(((iou(p, t), i, j) for i, p in enumerate(predicted) for j, t in enumerate(labelled)),
                   reverse=True)
    used_p, used_t, hits = set(), set(), 0
    for value, i, j in pairs:
        if value < threshold:
            break
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            hits += 1
    return hits


def evaluate_detection(root: Path, labels: dict, engines: tuple[str, ...]) -> dict:
    from restorer.faces import detect
    from restorer.imaging import read_photo

    result: dict = {}
    for name in engines:
        found = hits = total = 0
        per_image = []
        for relative, boxes in labels.items():
            pixels = read_photo(Path(root) / relative).float_pixels()
            predicted = [f.box for f in detect.detect_faces(pixels, name)]
            matched = match(predicted, [tuple(b) for b in boxes])
            found, hits, total = found + len(predicted), hits + matched, total + len(boxes)
            per_image.append({"image": relative, "labelled": len(boxes), "found": len(predicted), "matched": matched})
        result[name] = {"recall": hits / total if total else None, "precision": hits / found if found else None,
                        "labelled": total, "found": found, "matched": hits, "per_image": per_image}
    return result


class IdentityEmbedder:
    """dlib's face descriptor: a 128-number embedding of a face, given its box, taken on lightness."""

    def __init__(self) -> None:
        import importlib.util

        try:
            import dlib
        except ImportError:
            raise SystemExit("restorer eval faces needs dlib for its identity measure: "
                             "pip install dlib-bin face-recognition-models") from None
        spec = importlib.util.find_spec("face_recognition_models")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("restorer eval faces needs dlib's face models: pip install face-recognition-models")
        models = Path(list(spec.submodule_search_locations)[0]) / "models"
        self._dlib = dlib
        self.shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    def __call__(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        image = np.ascontiguousarray(np.repeat(lightness_u8(rgb)[..., None], 3, axis=2))
        x, y, w, h = box
        rect = self._dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
        return np.array(self.net.compute_face_descriptor(image, self.shapes(image, rect)))


def lightness_u8(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of float32 RGB in [0, 1] as uint8 (H, W), 0..100 -> 0..255: the face without the colour
    added to it.

    L* is what the colorizer keeps. Rec. 601 luma, used before, is not: on one of einstein_beach's
    faces the colorizer moved luma by 1.4 levels on average (12 at most) while L* moved by 0.1,
    and dlib's similarity to the grey scan fell to 0.66 with luma against 0.92 with L*, colour alone.
    """
    from restorer.colorspace import rgb_to_lab

    lightness = rgb_to_lab(np.clip(rgb, 0, 1).astype(np.float32))[..., 0]
    return np.clip(lightness * 2.55 + 0.5, 0, 255).astype(np.uint8)


def _crop(pixels: np.ndarray, face: Face, offset: tuple[int, int] = (0, 0)
          ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    x, y, w, h = face.box
    height, width = pixels.shape[:2]
    dx, dy = offset
    x0, y0 = max(0, int(x - CROP_MARGIN * w) + dx), max(0, int(y - CROP_MARGIN * h) + dy)
    x1, y1 = min(width, int(x + w + CROP_MARGIN * w) + dx), min(height, int(y + h + CROP_MARGIN * h) + dy)
    return np.ascontiguousarray(pixels[y0:y1, x0:x1]), (x - x0, y - y0, w, h)


SHIFTS = ((0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 2), (2, 1))


def as_for_whole_photo(recipe, photo):
    """`recipe` with its `auto` artifact settings made explicit from the whole `photo`: the halftone
    screen found on it (or none), and the strength estimated on it once descreened.

    A face's crop would otherwise get its own estimate, without the file's JPEG tables and
    with more grain per pixel than the photo it came from.
    """
    if "artifacts" not in recipe.enabled_stages():
        return recipe
    from restorer.stages.artifacts import auto_strength, remove_screen
    from restorer.stages.descreen import find_screen

    settings = recipe.settings("artifacts")
    changes = {}
    if settings.descreen == "auto":
        screen = find_screen(photo.float_pixels())
        changes["descreen"] = round(screen.period, 3) if screen else "off"
    if settings.strength == "auto":
        descreened, done = remove_screen(photo, changes.get("descreen", settings.descreen))
        changes["strength"] = auto_strength(descreened, ignore_jpeg=bool(done))[0]
    return recipe.with_settings("artifacts", **changes)


def evaluate_identity(photos: list[Path], recipe, *, limit: int | None = None, shifts: int = 1) -> dict:
    """Identity similarity of every face found (up to `limit`), restored with face handling on and off.

    The stages before the enlargement run once per crop; the enlargement runs with faces on and off.
    """
    import cv2

    from restorer.faces.detect import detect_faces
    from restorer.imaging import Photo, read_photo
    from restorer.pipeline import run_to_end

    embed = IdentityEmbedder()
    offsets = SHIFTS[: max(1, min(shifts, len(SHIFTS)))]
    enlarges = "upscale" in recipe.enabled_stages()
    scale = recipe.settings("upscale").scale if enlarges else 1
    rows = []
    for path in photos:
        photo = read_photo(path)
        pixels = photo.float_pixels()
        resolved = as_for_whole_photo(recipe, photo)
        before_enlarging = resolved.with_enabled(set(resolved.enabled_stages()) - {"upscale"})
        enlarging = {on: resolved.with_enabled({"upscale"}).with_settings("upscale", faces=on) for on in (True, False)}
        for face in detect_faces(pixels):
            if limit is not None and len(rows) >= limit:
                break
            row = {"image": str(path), "box": [round(v, 1) for v in face.box]}
            values: dict[str, list[float]] = {"on": [], "off": []}
            for offset in offsets:
                crop, box = _crop(pixels, face, offset)
                before = cv2.resize(crop, (crop.shape[1] * scale, crop.shape[0] * scale),
                                    interpolation=cv2.INTER_CUBIC)
                big = tuple(v * scale for v in box)
                reference = embed(before, big)
                prepared = run_to_end(before_enlarging, Photo(crop)) if before_enlarging.enabled_stages() else Photo(crop)
                for label, on in (("on", True), ("off", False)):
                    restored = run_to_end(enlarging[on], prepared) if enlarges else prepared
                    values[label].append(float(1.0 - np.linalg.norm(embed(restored.float_pixels(), big) - reference)))
            for label in ("on", "off"):
                row[f"similarity_{label}"] = float(np.mean(values[label]))
            if len(offsets) > 1:
                row["on_minus_off_per_shift"] = [round(a - b, 4) for a, b in zip(values["on"], values["off"])]
            rows.append(row)
            # A long run (about 2 min a face on two AVX2 cores) shows where it is.
            print(f"face {len(rows)}: {path.name} {row['box']}: identity on {row['similarity_on']:.3f}, "
                  f"off {row['similarity_off']:.3f}", file=sys.stderr, flush=True)
    summary = {"faces": len(rows), "shifts": len(offsets)}
    for label in ("on", "off"):
        values = [r[f"similarity_{label}"] for r in rows]
        summary[f"identity_similarity_{label}"] = float(np.mean(values)) if values else None
    summary["faces_better_with_handling"] = sum(r["similarity_on"] > r["similarity_off"] for r in rows)
    summary["faces_worse_with_handling"] = sum(r["similarity_on"] < r["similarity_off"] for r in rows)
    summary["per_face"] = rows
    return summary


def evaluate_faces(data: Path, *, labels: Path | None, engines: tuple[str, ...], identity: bool,
                   limit: int | None, recipe=None, shifts: int = 1, only: tuple[str, ...] = ()) -> dict:
    from restorer.formats import READABLE_SUFFIXES
    from restorer.recipe import Recipe

    result: dict = {"task": "faces", "data": str(data)}
    if labels is not None:
        labelled = json.loads(Path(labels).read_text(encoding="utf-8"))["faces"]
        result["detection"] = evaluate_detection(data, labelled, engines)
        photos = [Path(data) / relative for relative in labelled]
    else:
        photos = sorted(p for p in Path(data).rglob("*") if p.suffix.lower() in READABLE_SUFFIXES)
    if only:
        photos = [p for p in photos if any(text in str(p) for text in only)]
    if identity:
        result["identity"] = evaluate_identity(photos, recipe or Recipe(), limit=limit, shifts=shifts)
    return result
