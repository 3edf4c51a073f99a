"""The batch engine on a generated corpus: places agree, reports and exit codes, resume after SIGKILL, provenance."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from restorer.batch import FileTask, Gate, LocalPool
from restorer.batch.journal import JOURNAL_NAME, Journal
from restorer.batch.task import BatchOptions, FileOutcome
from restorer.cli import main
from restorer.imaging import read_photo
from restorer.provenance import read_provenance, read_title

from .conftest import gradient_photo

# A real network (ArtifactNet) and a classic resampler: quick on tiny photos, and threads could change rounding.
RECIPE = ["--stages", "artifacts,upscale", "--artifacts-strength", "60", "--upscale-engine", "lanczos",
          "--scale", "2"]
TITLE = "Grandma at the seaside, 1931"
XMP = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
       f'{TITLE}</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def _bomb_png(path: Path) -> None:
    """A tiny file whose header claims 40000 x 40000 pixels (1.6 gigapixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def make_corpus(folder: Path, size: int = 40) -> dict[str, list[str]]:
    """Good photos in several formats (one with an XMP title, one in a unicode sub-folder) and bad files."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb8 = lambda seed: (gradient_photo(size + 8, size, seed=seed) * 255).astype(np.uint8)  # noqa: E731
    Image.fromarray(rgb8(1)).save(folder / "a_png8.png")
    cv2.imwrite(str(folder / "b_png16.png"), (gradient_photo(size + 8, size, seed=2) * 65535).astype(np.uint16))
    Image.fromarray(rgb8(3)).save(folder / "c_titled.jpg", quality=92, xmp=XMP)
    import tifffile

    tifffile.imwrite(folder / "d_tiff16.tif", (gradient_photo(size + 8, size, seed=4) * 65535).astype(np.uint16))
    Image.fromarray(rgb8(5)).save(folder / "e_lossless.webp", lossless=True)
    (folder / "Großmutter").mkdir(exist_ok=True)
    Image.fromarray(rgb8(6)).save(folder / "Großmutter" / "f_bmp.bmp")
    good = ["a_png8.png", "b_png16.png", "c_titled.jpg", "d_tiff16.tif", "e_lossless.webp", "Großmutter/f_bmp.bmp"]
    cut = Image.fromarray(rgb8(7))
    from io import BytesIO

    buffer = BytesIO()
    cut.save(buffer, "JPEG")
    (folder / "g_truncated.jpg").write_bytes(buffer.getvalue()[:200])
    (folder / "h_empty.png").write_bytes(b"")
    (folder / "i_letter.jpg").write_text("Dear Sir, this is not a photograph.")
    _bomb_png(folder / "j_bomb.png")
    bad = ["g_truncated.jpg", "h_empty.png", "i_letter.jpg", "j_bomb.png"]
    return {"good": good, "bad": bad}


def _report(out: Path) -> dict:
    return json.loads((out / "restorer-report.json").read_text(encoding="utf-8"))


def _comparable(out: Path) -> list[dict]:
    """`out`'s report rows without what legitimately differs between runs (time taken, which run did it),
    outputs relative to `out`."""
    rows = []
    for row in _report(out)["files"]:
        row = {k: v for k, v in row.items() if k not in ("seconds", "earlier_run", "attempts")}
        row["output"] = str(Path(row["output"]).relative_to(out)) if row["output"] else ""
        rows.append(row)
    return rows


def _results(out: Path) -> dict[str, np.ndarray]:
    """Every result image under `out`, by relative path, as decoded pixels."""
    found = {}
    for path in sorted(out.rglob("*_restored.*")):
        if path.suffix in (".json",):
            continue
        found[str(path.relative_to(out))] = read_photo(path).pixels
    return found


@pytest.fixture
def corpus(tmp_path):
    make_corpus(tmp_path / "scans")
    return tmp_path / "scans"


def _run(corpus: Path, out: Path, *extra: str) -> int:
    return main(["run", str(corpus), "-o", str(out), "--recursive", *RECIPE, *extra])


def test_every_place_gives_the_same_files_report_and_exit_code(corpus, tmp_path, capsys):
    codes = {place: _run(corpus, tmp_path / place, *args)
             for place, args in (("one", ()), ("pool", ("--workers", "2")), ("dask", ("--cluster", "local:2")))}
    assert codes == {"one": 3, "pool": 3, "dask": 3}
    err = capsys.readouterr().err
    for bad in ("g_truncated.jpg", "h_empty.png", "i_letter.jpg", "j_bomb.png"):
        assert bad in err
    reference = _results(tmp_path / "one")
    assert len(reference) == 6 and "Großmutter/f_bmp_restored.png" in reference
    for place in ("pool", "dask"):
        results = _results(tmp_path / place)
        assert results.keys() == reference.keys()
        for name, pixels in results.items():
            # Bit-identical: each worker runs with fewer threads, and the result was the same to the bit.
            assert np.array_equal(pixels, reference[name]), (place, name)
    one = _report(tmp_path / "one")
    assert one["totals"] == {"restored": 6, "skipped": 0, "failed": 4} and one["exit_code"] == 3
    rows = {Path(r["input"]).name: r for r in one["files"]}
    assert "larger than 600 megapixels" in rows["j_bomb.png"]["reason"]
    assert rows["h_empty.png"]["status"] == "failed" and "h_empty.png" in rows["h_empty.png"]["reason"]
    assert rows["a_png8.png"]["output"].endswith("a_png8_restored.png") and rows["a_png8.png"]["recipe_hash"]
    for place in ("pool", "dask"):
        assert _comparable(tmp_path / place) == _comparable(tmp_path / "one"), place
        assert _report(tmp_path / place)["recipe_hash"] == one["recipe_hash"]
    csv_lines = (tmp_path / "one" / "restorer-report.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0].startswith("input,status,reason,output,seconds,recipe_hash,engine") and len(csv_lines) == 11


def test_sixteen_bits_and_the_input_title_survive_with_provenance_in_every_format(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(corpus, out) == 3
    assert read_photo(out / "b_png16_restored.png").metadata.bit_depth == 16
    assert read_photo(out / "d_tiff16_restored.tif").metadata.bit_depth == 16
    for fmt in ("png", "jpg", "tiff", "webp"):
        target = tmp_path / fmt
        assert main(["run", str(corpus / "c_titled.jpg"), "-o", str(target), *RECIPE, "--format", fmt]) == 0
        (written,) = [p for p in target.iterdir() if p.name.startswith("c_titled_restored")]
        packet = read_photo(written).metadata.xmp
        assert read_title(packet) == TITLE, fmt
        (run,) = read_provenance(packet)
        assert [s["stage"] for s in run["stages"]] == ["artifacts", "upscale"], fmt
        assert run["stages"][0]["models"][0]["id"] == "restorer-artifacts"
        assert len(run["stages"][0]["models"][0]["sha256"]) == 64
        assert run["recipe_hash"] == _report(target)["recipe_hash"]
    capsys.readouterr()
    assert main(["provenance", str(tmp_path / "png" / "c_titled_restored.png")]) == 0
    printed = capsys.readouterr().out
    assert "artifacts: descreen=auto, engine=model, strength=60" in printed and "upscale:" in printed
    assert "restorer-artifacts" in printed


def test_provenance_says_so_when_a_file_has_no_record(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(plain)
    assert main(["provenance", str(plain)]) == 1
    assert "plain.png carries no Restorer record" in capsys.readouterr().err


def test_a_batch_killed_mid_way_resumes_to_the_same_files_and_report(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for i in range(12):
        Image.fromarray((gradient_photo(96, 80, seed=i) * 255).astype(np.uint8)).save(scans / f"p{i:02d}.png")
    (scans / "p05_bad.jpg").write_text("not a photo")
    command = [sys.executable, "-m", "restorer", "run", str(scans), "-o", str(tmp_path / "killed"), *RECIPE]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / "killed" / JOURNAL_NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 3:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    done_before = len(journal.read_text().splitlines())
    assert 3 <= done_before < 13
    assert not (tmp_path / "killed" / "restorer-report.json").exists()  # SIGKILL: nothing could be written
    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True)
    assert resumed.returncode == 3, resumed.stderr
    assert f"already restored by an earlier run" in resumed.stderr
    assert main(["run", str(scans), "-o", str(tmp_path / "whole"), *RECIPE]) == 3
    killed, whole = _results(tmp_path / "killed"), _results(tmp_path / "whole")
    assert killed.keys() == whole.keys() and len(whole) == 12
    assert all(np.array_equal(killed[k], whole[k]) for k in whole)
    assert _comparable(tmp_path / "killed") == _comparable(tmp_path / "whole")
    assert not list((tmp_path / "killed").glob(".*.part"))


def test_resume_leaves_results_it_cannot_vouch_for_and_retries_failures(tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    Image.fromarray((gradient_photo(32, 32) * 255).astype(np.uint8)).save(scans / "a.png")
    (scans / "b.png").write_text("not yet a photo")
    out = tmp_path / "out"
    out.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(out / "a_restored.png")  # someone else's file
    before = (out / "a_restored.png").read_bytes()
    assert _run(scans, out, "--resume") == 3
    assert (out / "a_restored.png").read_bytes() == before
    rows = {Path(r["input"]).name: r for r in _report(out)["files"]}
    assert rows["a.png"]["status"] == "skipped" and "left as it is" in rows["a.png"]["reason"]
    assert rows["b.png"]["status"] == "failed"
    Image.fromarray((gradient_photo(32, 32, seed=5) * 255).astype(np.uint8)).save(scans / "b.png")  # fixed
    capsys.readouterr()
    assert _run(scans, out, "--resume") == 0  # the failure is retried, the skip stays a skip
    rows = {Path(r["input"]).name: r for r in _report(out)["files"]}
    assert rows["b.png"]["status"] == "restored" and rows["a.png"]["status"] == "skipped"
    assert "1 restored, 0 already restored" not in capsys.readouterr().err


def test_exit_code_is_one_when_nothing_succeeds_and_two_for_bad_arguments(tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "x.jpg").write_text("no")
    (scans / "y.png").write_bytes(b"")
    assert _run(scans, tmp_path / "out") == 1
    assert "2 photos: 0 restored, 0 skipped, 2 failed." in capsys.readouterr().err
    assert _run(scans, tmp_path / "out", "--workers", "0") == 2
    assert _run(scans, tmp_path / "out", "--mask", str(scans / "x.jpg")) == 2


def test_a_worker_killed_mid_file_costs_only_that_file_and_it_is_retried_once(tmp_path):
    from .batch_helpers import always_die, die_on_first_attempt

    options = BatchOptions(json.dumps({"version": 1, "stages": []}))
    names = ["a.png", "die_once.png", "b.png", "c.png"]
    tasks = [FileTask(str(tmp_path / n), str(tmp_path / n.replace(".png", "_restored")), options) for n in names]
    pool = LocalPool(2, function=die_on_first_attempt)
    try:
        outcomes = {Path(o.source).name: o for o in pool.run(tasks, Gate())}
    finally:
        pool.close()
    assert set(outcomes) == set(names) and all(o.status == "restored" for o in outcomes.values())
    assert outcomes["die_once.png"].attempts == 2 and outcomes["a.png"].attempts == 1

    tasks[1] = FileTask(str(tmp_path / "die_always.png"), str(tmp_path / "die_always_restored"), options)
    pool = LocalPool(2, function=always_die)
    try:
        outcomes = {Path(o.source).name: o for o in pool.run(tasks, Gate())}
    finally:
        pool.close()
    assert outcomes["die_always.png"].status == "failed" and "died 2 times" in outcomes["die_always.png"].reason
    assert [outcomes[n].status for n in ("a.png", "b.png", "c.png")] == ["restored"] * 3


def test_the_journal_ignores_a_line_cut_short_by_a_kill(tmp_path):
    journal = Journal(tmp_path)
    journal.record(FileOutcome(str(tmp_path / "a.png"), "restored", output="x", recipe_hash="h"))
    journal.close()
    with open(tmp_path / JOURNAL_NAME, "a") as fh:
        fh.write('{"input": "/b.png", "status": "resto')
    assert list(Journal(tmp_path).load()) == [str(tmp_path / "a.png")]


def _iptc_app13(title: str, keywords: list[str]) -> bytes:
    """A Photoshop APP13 payload holding IPTC IIM record 2: object name (2:05) and keywords (2:25)."""
    def dataset(number: int, text: str) -> bytes:
        value = text.encode("utf-8")
        return bytes([0x1C, 2, number]) + struct.pack(">H", len(value)) + value

    iim = dataset(5, title) + b"".join(dataset(25, k) for k in keywords)
    if len(iim) % 2:
        iim += b"\x00"
    return b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim


def test_iptc_fields_are_kept_in_jpeg_and_tiff_and_mirrored_into_xmp_for_png(tmp_path):
    """The IIM block is wrapped as a Photoshop resource in a JPEG's APP13 and bare in TIFF's tag 33723:
    each result holds it in its own format's form, whichever form the scan had."""
    app13 = _iptc_app13("Wedding of Anna and Josef", ["wedding", "Brno"])
    iim = app13[len(b"Photoshop 3.0\x00") + 12 :]
    source = tmp_path / "wedding.jpg"
    Image.fromarray((gradient_photo(40, 32) * 255).astype(np.uint8)).save(
        source, quality=90, extra=b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13)
    assert read_photo(source).metadata.iptc == iim
    assert main(["run", str(source), "-o", str(tmp_path / "tif"), *RECIPE, "--format", "tif"]) == 0
    tiff = tmp_path / "tif" / "wedding_restored.tif"
    with Image.open(tiff) as written:
        assert bytes(written.tag_v2[33723]) == iim  # bare IIM, as TIFF readers expect
    assert main(["run", str(tiff), "-o", str(tmp_path / "back"), *RECIPE, "--format", "jpg"]) == 0
    with Image.open(tmp_path / "back" / "wedding_restored_restored.jpg") as written:
        assert dict(written.applist)["APP13"] == app13  # wrapped again, as JPEG readers expect
    for fmt in ("jpg", "png"):
        assert main(["run", str(source), "-o", str(tmp_path / fmt), *RECIPE, "--format", fmt]) == 0
        written = next((tmp_path / fmt).glob("wedding_restored.*"))
        meta = read_photo(written).metadata
        assert read_title(meta.xmp) == "Wedding of Anna and Josef", fmt
        assert b"<rdf:li>Brno</rdf:li>" in meta.xmp
        if fmt == "jpg":
            assert meta.iptc == iim  # the IIM block itself travels too


def test_the_report_and_metadata_name_the_engine_that_enlarged_each_file(tmp_path):
    """The enlargement can run outside torch (the fast student here; ONNX Runtime or int8 elsewhere): the report
    says which ran, and a run without a network enlargement names the torch runtime alone."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray((gradient_photo(20, 16) * 255).astype(np.uint8)).save(folder / "p.png")
    assert main(["run", str(folder), "-o", str(tmp_path / "fast"), "--stages", "upscale", "--quality", "fast",
                 "--faces", "off"]) == 0
    fast = _report(tmp_path / "fast")["files"][0]["engine"]
    assert "; enlarged: FastSR cpu" in fast
    (run,) = read_provenance(read_photo(tmp_path / "fast" / "p_restored.png").metadata.xmp)
    assert run["engine"] == fast
    assert main(["run", str(folder), "-o", str(tmp_path / "plain"), *RECIPE]) == 0
    plain = _report(tmp_path / "plain")["files"][0]["engine"]
    assert plain and "enlarged" not in plain


def test_a_full_disk_stops_the_batch_at_once_and_resume_goes_on(tmp_path, monkeypatch, capsys):
    """Every file after the first ENOSPC would be restored only to fail to be written: the batch stops, says
    why in one sentence, and --resume continues once there is room."""
    import errno

    import restorer.imaging as imaging

    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(5):
        Image.fromarray((gradient_photo(24, 16, seed=i) * 255).astype(np.uint8)).save(folder / f"s{i}.png")
    real_encode, calls = imaging._encode, []

    def encode_until_full(photo, suffix, depth, quality, out, xmp=None):
        calls.append(1)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_encode(photo, suffix, depth, quality, out, xmp)

    monkeypatch.setattr(imaging, "_encode", encode_until_full)
    out = tmp_path / "out"
    lanczos = ["--stages", "upscale", "--upscale-engine", "lanczos", "--scale", "2"]
    assert main(["run", str(folder), "-o", str(out), *lanczos]) == 3
    assert len(calls) == 2  # the third file was never restored
    err = capsys.readouterr().err
    assert "s1.png" in err and "the disk holding it is full" in err
    assert "The batch stopped: the disk holding" in err and "--resume" in err
    report = _report(out)
    assert report["stopped"].startswith("The batch stopped") and report["interrupted"]
    assert [f.name for f in out.glob("*_restored.png")] == ["s0_restored.png"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    monkeypatch.setattr(imaging, "_encode", real_encode)  # room again
    assert main(["run", str(folder), "-o", str(out), *lanczos, "--resume"]) == 0
    assert sorted(f.name for f in out.glob("*_restored.png")) == [f"s{i}_restored.png" for i in range(5)]
    assert _report(out)["stopped"] == ""


@pytest.mark.parametrize("outdir", ["Scans/restored", "Scans"])
def test_a_second_run_never_takes_its_own_results_for_photos(tmp_path, outdir, capsys):
    """`run Scans -o Scans/restored --recursive` (or `-o Scans`) twice: the second run restores the same
    three scans again, not the first run's results, and refuses nothing; hidden files are not photos."""
    scans = tmp_path / "Scans"
    (scans / "1920s").mkdir(parents=True)
    for name in ("a.png", "a.jpg", "1920s/b.png"):
        Image.fromarray((gradient_photo(24, 16) * 255).astype(np.uint8)).save(scans / name)
    (scans / "._a.jpg").write_bytes(b"\x00\x05\x16\x07 Mac OS X resource fork")  # hidden: not a photo
    (scans / ".thumbnails").mkdir()
    Image.fromarray((gradient_photo(8, 8) * 255).astype(np.uint8)).save(scans / ".thumbnails" / "a.png")
    lanczos = ["--stages", "upscale", "--upscale-engine", "lanczos", "--scale", "2"]
    for _ in range(2):
        assert main(["run", str(scans), "-o", str(tmp_path / outdir), "--recursive", *lanczos]) == 0
        report = _report(tmp_path / outdir)
        assert sorted(Path(r["input"]).relative_to(scans).as_posix() for r in report["files"]) == \
            ["1920s/b.png", "a.jpg", "a.png"]
    results = sorted(p.relative_to(tmp_path / outdir).as_posix() for p in (tmp_path / outdir).rglob("*_restored*"))
    assert results == ["1920s/b_restored.png", "a_restored-2.png", "a_restored.png"]
