import io
import subprocess
import sys

import numpy as np
from PIL import Image

from restorer import __version__
from restorer.cli import main

from .conftest import gradient_photo, save_rgb

def results(folder):
    """The result files in an output folder (not the report and journal every run writes)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("restorer-")) if folder.exists() else []


CLASSIC = ["--stages", "artifacts,colorize,upscale", "--upscale-engine", "lanczos", "--scale", "2",
           "--artifacts-engine", "classic"]


def test_run_restores_a_photo(tmp_path, photo_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(photo_file), "-o", str(out), *CLASSIC]) == 0
    result = out / "photo_restored.png"
    with Image.open(result) as image:
        assert image.size == (96, 64)
    assert str(result) in capsys.readouterr().out


def test_missing_file_one_sentence_nonzero_and_nothing_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "ghost.jpg"), "-o", str(out), *CLASSIC]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ghost.jpg does not exist" in err[0]
    assert results(out) == []


def test_corrupt_files_are_named_with_their_reason(tmp_path, capsys):
    truncated = tmp_path / "cut.jpg"
    buffer = io.BytesIO()
    Image.fromarray((gradient_photo(64, 64) * 255).astype(np.uint8)).save(buffer, "JPEG")
    truncated.write_bytes(buffer.getvalue()[:300])
    text = tmp_path / "letter.png"
    text.write_text("Dear Sir")
    out = tmp_path / "out"
    for bad, reason in ((truncated, "cut.jpg could not be read"), (text, "letter.png is not an image")):
        assert main(["run", str(bad), "-o", str(out), *CLASSIC]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and reason in err[0], err
    assert results(out) == []


def test_batch_goes_on_past_a_bad_file(tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    save_rgb(folder / "a.png", gradient_photo())
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff garbage")
    save_rgb(folder / "c.png", gradient_photo(seed=3))
    out = tmp_path / "out"
    assert main(["run", str(folder), "-o", str(out), *CLASSIC]) == 3  # some failed
    assert results(out) == ["a_restored.png", "c_restored.png"]
    err = capsys.readouterr().err
    assert "b.jpg" in err and "3 photos: 2 restored, 0 skipped, 1 failed." in err


def test_an_empty_file_and_an_output_that_is_a_file_get_their_own_sentences(tmp_path, capsys):
    """A zero-byte file (a copy that never finished) is named as empty; -o naming a file is refused before any
    photo is read, instead of each being restored and then thrown away."""
    box = tmp_path / "box14"
    box.mkdir()
    (box / "box14_007.jpg").write_bytes(b"")
    assert main(["run", str(box), "-o", str(tmp_path / "out"), *CLASSIC]) != 0
    assert "box14_007.jpg is empty (0 bytes)" in capsys.readouterr().err
    photo = save_rgb(tmp_path / "a.png", gradient_photo())
    from restorer.batch.report import BatchReport

    one = BatchReport([str(photo)], {}, "hash", "this process", stopped="The disk is full.")
    assert one.summary().startswith("1 photo: 0 restored, 0 skipped, 1 failed.")
    not_a_folder = tmp_path / "results.txt"
    not_a_folder.write_text("notes")
    assert main(["run", str(photo), "-o", str(not_a_folder), *CLASSIC]) == 2
    assert f"{not_a_folder} is a file, not a folder; give -o a folder" in capsys.readouterr().err
    assert not_a_folder.read_text() == "notes"


def test_an_input_is_never_overwritten_even_when_names_collide(tmp_path, capsys):
    a = save_rgb(tmp_path / "a.png", gradient_photo())
    victim = save_rgb(tmp_path / "a_restored.png", gradient_photo(seed=9))
    before = victim.read_bytes()
    code = main(["run", str(a), str(victim), "-o", str(tmp_path), *CLASSIC])
    assert victim.read_bytes() == before
    assert code == 3 and "never overwrites originals" in capsys.readouterr().err


def test_skip_existing_resumes_a_batch(tmp_path, photo_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(photo_file), "-o", str(out), *CLASSIC]) == 0
    stamp = (out / "photo_restored.png").stat().st_mtime_ns
    assert main(["run", str(photo_file), "-o", str(out), *CLASSIC, "--skip-existing"]) == 0
    assert (out / "photo_restored.png").stat().st_mtime_ns == stamp
    assert "restored by an earlier run" in capsys.readouterr().out


def test_mask_enables_inpainting_and_fills_it(tmp_path):
    pixels = gradient_photo(64, 48)
    mask = np.zeros((48, 64), dtype=np.uint8)
    mask[20:23, 5:60] = 255
    damaged = pixels.copy()
    damaged[mask > 0] = 1.0
    photo = save_rgb(tmp_path / "scratched.png", damaged)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out"
    assert main(["run", str(photo), "-o", str(out), "--mask", str(tmp_path / "mask.png"), "--preset", "scan-cleanup",
                 "--stages", "inpaint"]) == 0
    with Image.open(out / "scratched_restored.png") as image:
        result = np.asarray(image, dtype=np.float32) / 255
    assert np.abs(result[mask > 0] - pixels[mask > 0]).mean() < 0.05


def test_bad_stage_name_is_a_usage_error(tmp_path, photo_file, capsys):
    try:
        main(["run", str(photo_file), "-o", str(tmp_path), "--stages", "sharpen"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "unknown stage 'sharpen'" in capsys.readouterr().err


def test_version_from_a_real_process():
    done = subprocess.run([sys.executable, "-m", "restorer", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"restorer {__version__}"
