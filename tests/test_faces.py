"""Faces: found with the bundled detector, kept faithful only where they are; detect and --detect-scratches."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.faces.blend import blend_into, face_mask, face_region
from restorer.faces.detect import Face, detect_faces, iou
from restorer.imaging import Photo, read_photo
from restorer.paths import resources_dir

from .conftest import gradient_photo, save_rgb

EXAMPLE = resources_dir() / "examples" / "astronaut_faded.jpg"  # Eileen Collins, NASA, public domain


def test_the_bundled_detector_finds_the_face_in_the_example_photo_grey_and_sepia_too():
    colour = read_photo(EXAMPLE).pixels
    grey = np.repeat(colour.mean(axis=2, keepdims=True), 3, axis=2)
    sepia = np.clip(grey * np.array([1.07, 0.95, 0.78], np.float32), 0, 1)
    boxes = []
    for pixels in (colour, grey, sepia):
        faces = detect_faces(pixels)
        assert len(faces) == 1 and faces[0].score > 0.7
        boxes.append(faces[0].box)
        x, y, w, h = faces[0].box
        assert 80 < x + w / 2 < 150 and 30 < y + h / 2 < 110 and 30 < w < 90  # her face, upper middle
        assert len(faces[0].landmarks) == 5
    assert all(iou(boxes[0], b) > 0.7 for b in boxes[1:])
    assert detect_faces(gradient_photo(256, 256)) == []  # no face in a gradient


def test_a_large_scan_is_searched_in_tiles_at_full_resolution():
    """A small face in a big scan: found in the full-resolution tiles, not in the shrunk whole."""
    face = read_photo(EXAMPLE).pixels[20:120, 70:160]  # the face, 90 x 100 px
    scan = np.full((3000, 2200, 3), 0.8, np.float32)
    scan[2500:2600, 1900:1990] = face
    faces = detect_faces(scan)
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert 1880 < x < 1960 and 2490 < y < 2580


def test_a_face_under_twenty_pixels_is_found_on_the_photo_enlarged(monkeypatch):
    """A crowd's or a boardwalk's faces: 13 px wide, below what YuNet sees at the photo's own size."""
    import cv2

    from restorer.faces import detect

    small = cv2.resize(read_photo(EXAMPLE).pixels, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    photo = np.full((300, 400, 3), 0.75, np.float32)
    photo[100 : 100 + small.shape[0], 150 : 150 + small.shape[1]] = small
    faces = detect_faces(photo)
    assert len(faces) == 1
    x, y, w, h = faces[0].box  # her face: at 0.3 of (80-150, 30-110) in the example, moved by (150, 100)
    assert 170 < x + w / 2 < 200 and 105 < y + h / 2 < 135 and 8 < w < 25
    monkeypatch.setattr(detect, "ENLARGED_SEARCH", 1)  # the photo at its own size only
    assert detect_faces(photo) == []


def test_the_face_blend_changes_pixels_only_near_the_face():
    face = Face((40.0, 30.0, 20.0, 24.0), 0.9, ((45.0, 38.0), (55.0, 38.0), (50.0, 44.0), (46.0, 49.0), (54.0, 49.0)))
    result = np.zeros((120 * 4, 100 * 4, 3), np.float32)
    region = face_region(face, 100, 120)
    x0, y0, x1, y1 = region
    faithful = np.ones(((y1 - y0) * 4, (x1 - x0) * 4, 3), np.float32)
    blend_into(result, faithful, region, face, 4)
    changed = result[..., 0] > 1e-4
    ys, xs = np.nonzero(changed)
    assert changed[int(41 * 4), int(50 * 4)] and result[int(41 * 4), int(50 * 4), 0] > 0.95  # the face's centre
    assert ys.min() >= y0 * 4 and ys.max() < y1 * 4 and xs.min() >= x0 * 4 and xs.max() < x1 * 4
    # Nothing far from the face: the ellipse reaches about one face height, not the photo.
    assert changed.mean() < 0.15 and not changed[: 10 * 4].any() and not changed[:, : 25 * 4].any()
    mask = face_mask(480, 400, face, 4)
    assert mask.max() == pytest.approx(1.0, abs=0.02) and mask[0, 0] == 0.0


def test_a_faithful_pass_that_strays_further_from_the_photo_than_the_look_is_not_blended_in():
    """The faithful network etched a faint halftone screen into crosshatch on a real print; such a pass must
    not replace the Look over the face, while one closer to the photo still does, in full."""
    import cv2

    from restorer.faces.blend import STRAYS, faithful_share

    rng = np.random.default_rng(0)
    source = cv2.GaussianBlur(rng.uniform(0.2, 0.8, (24, 24, 3)).astype(np.float32), (0, 0), 1.5)
    mask = np.zeros((24, 24), np.float32)
    mask[4:20, 6:18] = 1.0
    exact = cv2.resize(source, (96, 96), interpolation=cv2.INTER_CUBIC)
    drift = np.float32(0.03) * np.sign(rng.standard_normal((96, 96, 1))).astype(np.float32)
    look = np.clip(exact + cv2.GaussianBlur(drift, (0, 0), 6.0)[..., None] * 8, 0, 1)  # strays a little
    yy, xx = np.mgrid[0:96, 0:96]
    hatch = (0.15 * np.sign(np.sin(np.pi * (xx + yy) / 6.0)))[..., None].astype(np.float32)  # 12-px crosshatch
    etched = np.clip(exact + hatch, 0, 1)
    assert faithful_share(exact, look, source, mask) == 1.0  # closer to the photo: used in full
    assert faithful_share(etched, look, source, mask) == 0.0  # strays further: the Look stays
    assert faithful_share(look, look, source, mask) == 1.0 and STRAYS > 1.0
    assert 0.0 < faithful_share(np.clip(exact + 0.5 * (look - exact) + 0.6 * (look - exact), 0, 1), look, source,
                                mask) < 1.0  # a ramp between

    # blend_into leaves the Look alone for a pass that strays, reports it, and without a source blends as before.
    face = Face((40.0, 30.0, 20.0, 24.0), 0.9, ((45.0, 38.0), (55.0, 38.0), (50.0, 44.0), (46.0, 49.0), (54.0, 49.0)))
    region = face_region(face, 100, 120)
    x0, y0, x1, y1 = region
    photo = cv2.GaussianBlur(rng.uniform(0.3, 0.6, (120, 100, 3)).astype(np.float32), (0, 0), 2.0)
    result = np.ascontiguousarray(cv2.resize(photo, (400, 480), interpolation=cv2.INTER_CUBIC))
    before = result.copy()
    h, w = (y1 - y0) * 4, (x1 - x0) * 4
    stray = np.clip(before[y0 * 4 : y0 * 4 + h, x0 * 4 : x0 * 4 + w] + 0.2, 0, 1)
    assert blend_into(result, stray, region, face, 4, source=photo[y0:y1, x0:x1]) == 0.0
    assert np.array_equal(result, before)
    assert blend_into(result, stray, region, face, 4) == 1.0 and not np.array_equal(result, before)


def test_face_handling_changes_the_enlargement_only_around_the_face(monkeypatch):
    """The whole stage on a synthetic photo with a fake detector and networks that differ by alpha."""
    import torch

    from restorer.recipe import UpscaleSettings
    from restorer.stages import StageContext, drain
    from restorer.stages import upscale

    class Net(torch.nn.Module):
        scale = 4

        def __init__(self):
            super().__init__()
            self.alpha = 0.0

        def forward(self, x):
            return torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest") * (1 - self.alpha)

    class Models:
        net = Net()

        def sr_network(self, alpha, precision="auto", pixels=None):
            from restorer.models.precision import Runtime

            self.net.alpha = alpha
            return self.net, Runtime("cpu", None)

    face = Face((60.0, 40.0, 24.0, 28.0), 0.9, ((66, 50), (78, 50), (72, 56), (67, 61), (77, 61)))
    monkeypatch.setattr("restorer.faces.detect.detect_faces", lambda pixels, *a: [face])
    photo = Photo(np.full((120, 160, 3), 0.5, np.float32))
    context = StageContext(models=Models())
    on, _ = drain(upscale.run(photo, UpscaleSettings(alpha=0.7, faces=True, face_strength=0.7), context))
    off, _ = drain(upscale.run(photo, UpscaleSettings(alpha=0.7, faces=False), context))
    difference = np.abs(on.float_pixels() - off.float_pixels()).max(axis=2)
    assert difference[int(54 * 4), int(72 * 4)] > 0.2  # the face is brighter: it was made at alpha 0.21
    x0, y0, x1, y1 = face_region(face, 160, 120)
    outside = difference.copy()
    outside[y0 * 4 : y1 * 4, x0 * 4 : x1 * 4] = 0
    assert outside.max() == 0.0


def test_detect_json_has_the_documented_schema(tmp_path, capsys):
    photo = tmp_path / "portrait.jpg"
    photo.write_bytes(EXAMPLE.read_bytes())
    bad = tmp_path / "note.png"
    bad.write_text("not a photo")
    assert main(["detect", str(photo), str(bad), "--json", "--mask-dir", str(tmp_path / "masks")]) == 3
    captured = capsys.readouterr()
    document = json.loads(captured.out.strip().splitlines()[-1])
    assert set(document) == {"photos"} and len(document["photos"]) == 2
    first, second = document["photos"]
    assert first["path"] == str(photo) and len(first["faces"]) == 1 and len(first["faces"][0]) == 4
    assert 0.0 <= first["scratch_fraction"] < 0.05 and (tmp_path / "masks" / "portrait_scratches.png").is_file()
    assert second["faces"] == [] and second["scratch_fraction"] is None and "note.png" in second["error"]
    assert "note.png" in captured.err
    assert main(["detect", str(photo), "--faces", "--json"]) == 0
    only_faces = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["photos"][0]
    assert only_faces["scratch_fraction"] is None and len(only_faces["faces"]) == 1


@pytest.mark.weights
def test_run_detect_scratches_fills_a_scratch_drawn_on_a_photo(tmp_path):
    clean = read_photo(EXAMPLE).pixels[60:200, 40:220].copy()
    scratched = clean.copy()
    for t in np.linspace(0, 1, 500):  # a thin bright curved scratch across the face, as on a print
        x, y = int(10 + 160 * t), int(20 + 90 * t + 10 * np.sin(6 * t))
        scratched[y : y + 2, x : x + 1] = 0.98
    source = save_rgb(tmp_path / "scratched.png", scratched)
    out = tmp_path / "out"
    assert main(["run", str(source), "-o", str(out), "--stages", "inpaint", "--detect-scratches",
                 "--save-mask"]) == 0
    restored = np.asarray(Image.open(out / "scratched_restored.png"), np.float32) / 255
    mask = np.asarray(Image.open(out / "scratched_restored_mask.png")) > 127
    line = np.abs(scratched - clean).max(axis=2) > 0.1
    assert mask[line].mean() > 0.7  # the detector found most of the scratch
    before = np.abs(scratched - clean)[line].mean()
    after = np.abs(restored - clean)[line].mean()
    assert after < 0.4 * before  # and it was filled


def test_identity_evaluation_decides_auto_strength_on_the_whole_photo_not_the_face_crop():
    from restorer.evaluation.faces import as_for_whole_photo
    from restorer.recipe import Recipe
    from restorer.stages.artifacts import auto_strength

    rng = np.random.default_rng(3)
    # A calm photo with one grainy corner: a crop of that corner alone would call for more removal.
    pixels = np.full((256, 256, 3), 0.5, np.float32)
    pixels[:64, :64] += rng.normal(0, 0.06, (64, 64, 1)).astype(np.float32)
    photo = Photo(np.clip(pixels, 0, 1))
    whole, corner = auto_strength(photo)[0], auto_strength(Photo(photo.pixels[:64, :64].copy()))[0]
    assert whole != corner
    resolved = as_for_whole_photo(Recipe(), photo)
    assert resolved.settings("artifacts").strength == whole
    chosen = Recipe().with_settings("artifacts", strength=7)
    assert as_for_whole_photo(chosen, photo).settings("artifacts").strength == 7
    off = Recipe().with_enabled({"upscale"})
    assert as_for_whole_photo(off, photo) == off


def test_identity_is_embedded_from_lightness_so_added_colour_does_not_count():
    from restorer.colorspace import lab_to_rgb, rgb_to_lab
    from restorer.evaluation.faces import lightness_u8

    grey = np.repeat(np.linspace(0.2, 0.8, 64, dtype=np.float32)[None, :, None], 3, axis=2).repeat(8, axis=0)
    lab = rgb_to_lab(grey)
    lab[..., 1], lab[..., 2] = 25.0, 30.0  # warm skin-like colour at the same L*
    coloured = np.clip(lab_to_rgb(lab), 0, 1)
    difference = np.abs(lightness_u8(coloured).astype(int) - lightness_u8(grey).astype(int))
    # L* is what the colorizer keeps: equal but where the brightest colours leave sRGB's gamut
    # (Rec. 601 luma, used before, moved 4 levels here, 1.3 on average).
    assert difference.mean() < 0.3 and difference.max() <= 3
    assert np.abs(coloured - grey).max() > 0.1  # while the RGB changed a lot


def test_scratch_marks_on_eyes_and_lips_need_far_more_certainty(monkeypatch):
    """A catchlight looks like dust and the line between the lips like a crack: there a mark needs p > 0.9
    (checked with stand-in networks that are equally sure everywhere), and growth does not reach in."""
    import torch

    from restorer.faces.features import feature_patches
    from restorer.models.precision import Runtime
    from restorer.stages import scratches

    photo = read_photo(EXAMPLE).float_pixels()
    faces = detect_faces(photo)
    patches = feature_patches(faces, *photo.shape[:2])
    assert len(patches) == 3  # two eyes and a mouth
    features = np.zeros(photo.shape[:2], bool)
    for x0, y0, inside in patches:
        features[y0 : y0 + inside.shape[0], x0 : x0 + inside.shape[1]] |= inside
    (rex, rey), (lex, ley), _, (rmx, rmy), (lmx, lmy) = faces[0].landmarks
    assert features[round(rey), round(rex)] and features[round(ley), round(lex)]
    assert features[round((rmy + lmy) / 2), round((rmx + lmx) / 2)]
    assert 0.002 < features.mean() < 0.05  # small ellipses, not the whole face

    def sure(logit):
        return lambda image: torch.full_like(image[:, :1], logit)

    def fairly_sure(image):  # p 0.73 everywhere, and sure (p 0.95) in one corner, which seeds the mark
        logits = torch.full_like(image[:, :1], 1.0)
        logits[..., :2, :2] = 3.0
        return logits

    fairly = scratches.detect_scratches_model(photo, fairly_sure, Runtime("cpu", None), grow=2)
    assert not fairly[features].any() and fairly[~features].mean() > 0.9
    very = scratches.detect_scratches_model(photo, sure(3.0), Runtime("cpu", None), grow=2)
    assert very[features].all()
    unprotected = scratches.detect_scratches_model(photo, fairly_sure, Runtime("cpu", None), grow=2,
                                                   protect_faces=False)
    assert unprotected[features].all()
