"""Find faces on old prints: grey, sepia or colour, at any size.

Contract: `detect_faces(rgb)` takes RGB (H, W, 3), float32 in [0, 1] or uint8,
and returns a list of Face, each with its box (x, y, w, h in pixels), score
and five landmarks (right eye, left eye, nose, right and left mouth corner,
as the person sees them). The engine is YuNet (Apache-2.0, 0.2 MB, run by
OpenCV's FaceDetectorYN), bundled with no download. It was chosen by
measurement over RetinaFace MobileNet-0.25 (MIT; the torch engine here reads
its file from a path): on 59 hand-labelled faces in 20 old photos
(`restorer eval faces`), recall / precision at IoU 0.5 were YuNet 0.98 / 1.00,
RetinaFace 0.69 / 0.42 (trained at 300 px, it misses large faces and fires on
clothes and hair).

Large scans are searched twice: whole, shrunk to at most WHOLE_SIDE pixels
(for big faces), and in overlapping tiles at full resolution (for the small
faces of a group photo). A photo no larger than WHOLE_SIDE is searched as it
is and enlarged twice (ENLARGED_SEARCH says why). The sets are merged by
non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHOLE_SIDE = 1280
TILE = 1024
TILE_OVERLAP = 192
NMS_IOU = 0.4
# YuNet misses faces under about 20 px wide, and faces looking down or half in shadow up to about
# 35 px; on the photo enlarged 2x (bicubic) it finds them. Only faces ENLARGED_FACE_PX wide (in the
# photo) are taken from that search: larger ones are the photo's own search's to find, and there the
# enlarged search mostly found hats, a clownfish, a fox and branches in eval/ (and, on old prints,
# three real faces turned away, now missed again); under 8 px it found more blobs than faces, and a
# face that small has nothing for face handling to keep. On the labelled faces
# (resources/labels/old_photos_faces.json, 59 faces on 20 photos, four of them chosen for their
# small faces): recall 0.915 -> 0.983 at precision 1.000. On the 56 other old prints of up to
# WHOLE_SIDE it added 19 faces, by eye 15 real (a crowd in Cork, a London street, a boardwalk, a
# hospital ward), 1 not a face (folds of cloth) and 3 too blurred to tell; on the 190 photos of eval/
# 13, 10 real (a crowd, a man in a hat, a woman in a headscarf) and 3 not (a horse's head, a statue,
# a rock). Without the size window it had added 24 and 27, the extra ones mostly not faces.
# A face that is missed is enlarged at the Look's alpha instead of kept faithful, and coloured
# with ColorNet's yellow instead of skin's hue. The cost is small on a photo this size (0.1-0.5 s).
ENLARGED_SEARCH = 2
ENLARGED_FACE_PX = (8.0, 40.0)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x, y, w, h in pixels
    score: float
    landmarks: tuple[tuple[float, float], ...] = ()

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> "Face":
        x, y, w, h = self.box
        return Face((x * factor + dx, y * factor + dy, w * factor, h * factor), self.score,
                    tuple((px * factor + dx, py * factor + dy) for px, py in self.landmarks))


def _bgr_uint8(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype != np.uint8:
        rgb = (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    return np.ascontiguousarray(rgb[..., ::-1])


RETINAFACE_FILE = Path(__file__).resolve().parents[3] / "shared" / "models" / "retinaface_mobilenet0.25_Final.pth"


class RetinaFaceEngine:
    """The measured alternative, not bundled: reads biubug6's mobilenet0.25_Final.pth from `path`."""

    name = "retinaface"

    def __init__(self, threshold: float = 0.8, path: Path = RETINAFACE_FILE) -> None:
        import torch

        from restorer.errors import ModelUnavailable
        from restorer.models.archs.retinaface import from_state_dict

        if not Path(path).is_file():
            raise ModelUnavailable(f"RetinaFace's weights are not at {path}; it is only used to compare detectors.")
        # A plain state dict, read without pickled code.
        self.net = from_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.threshold = threshold

    def __call__(self, bgr: np.ndarray) -> list[Face]:
        import torch

        from restorer.models.archs.retinaface import MEANS_BGR, decode, priors

        h, w = bgr.shape[:2]
        x = torch.from_numpy(bgr.astype(np.float32) - np.float32(MEANS_BGR)).permute(2, 0, 1)[None]
        with torch.inference_mode():
            loc, scores, marks = self.net(x)
        keep = scores[0, :, 1] > self.threshold
        if not bool(keep.any()):
            return []
        boxes, points = decode(loc[0][keep], marks[0][keep], priors(h, w)[keep], h, w)
        return [Face((float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])), float(s),
                     tuple((float(px), float(py)) for px, py in p))
                for b, s, p in zip(boxes, scores[0, keep, 1], points)]


class YuNetEngine:
    name = "yunet"

    def __init__(self, threshold: float = 0.7) -> None:
        import cv2

        from restorer.models.manager import bundled_weights

        # OpenCV's DNN warns about compute targets it does not use; errors still show.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        self.detector = cv2.FaceDetectorYN.create(str(bundled_weights("yunet-2023mar")), "", (320, 320),
                                                  threshold, 0.3, 5000)

    def __call__(self, bgr: np.ndarray) -> list[Face]:
        h, w = bgr.shape[:2]
        self.detector.setInputSize((w, h))
        _, found = self.detector.detect(bgr)
        faces = []
        for row in [] if found is None else found:
            # YuNet's landmarks: right eye, left eye, nose tip, right and left mouth corner.
            faces.append(Face(tuple(float(v) for v in row[:4]), float(row[14]),
                              tuple((float(row[4 + 2 * k]), float(row[5 + 2 * k])) for k in range(5))))
        return faces


ENGINES = {"retinaface": RetinaFaceEngine, "yunet": YuNetEngine}
DEFAULT_ENGINE = "yunet"
_loaded: dict = {}


def engine(name: str = DEFAULT_ENGINE):
    if name not in _loaded:
        _loaded[name] = ENGINES[name]()
    return _loaded[name]


def iou(a: tuple, b: tuple) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw, ih = max(0.0, min(ax1, bx1) - max(a[0], b[0])), max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def nms(faces: list[Face], threshold: float = NMS_IOU) -> list[Face]:
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(iou(face.box, other.box) < threshold for other in kept):
            kept.append(face)
    return kept


def detect_faces(rgb: np.ndarray, engine_name: str = DEFAULT_ENGINE) -> list[Face]:
    """Faces in an RGB photo (float32 [0, 1] or uint8), biggest first."""
    import cv2

    bgr = _bgr_uint8(rgb)
    run = engine(engine_name)
    h, w = bgr.shape[:2]
    scale = min(1.0, WHOLE_SIDE / max(h, w))
    small = bgr if scale == 1.0 else cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    faces = [f.scaled(1 / scale) for f in run(small)]
    if scale == 1.0 and ENLARGED_SEARCH > 1:  # small faces: the photo enlarged (ENLARGED_SEARCH says why)
        enlarged = cv2.resize(bgr, (w * ENLARGED_SEARCH, h * ENLARGED_SEARCH), interpolation=cv2.INTER_CUBIC)
        small_faces = (f.scaled(1 / ENLARGED_SEARCH) for f in run(enlarged))
        faces += [f for f in small_faces if ENLARGED_FACE_PX[0] <= f.box[2] < ENLARGED_FACE_PX[1]]
    if scale < 1.0:  # small faces need the full resolution: tiles of it
        step = TILE - TILE_OVERLAP
        for y in range(0, max(1, h - TILE_OVERLAP), step):
            for x in range(0, max(1, w - TILE_OVERLAP), step):
                tile = np.ascontiguousarray(bgr[y : y + TILE, x : x + TILE])
                faces += [f.scaled(1.0, x, y) for f in run(tile)]
    return sorted(nms(faces), key=lambda f: -f.box[2] * f.box[3])
