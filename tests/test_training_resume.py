"""Training runs stop at a deadline with a checkpoint and continue from it to the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from restorer.training.loop import Trainer, cosine_lr


def _tiny_run(out, total: int, *, stop_at: int | None = None, fresh: bool = False, reschedule: bool = False):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    trainer = Trainer(net, out, total, 1e-2, warmup=2, rng=rng, fresh=fresh, reschedule=reschedule)
    for step in trainer.steps():
        x = torch.from_numpy(rng.normal(size=(16, 4)).astype(np.float32))
        loss = ((net(x) - x.sum(1, keepdim=True)) ** 2).mean()
        trainer.step(step, loss, {})
        if stop_at is not None and step + 1 == stop_at:
            trainer.deadline = 0.0  # as if --minutes ran out here
    trainer.close()
    return trainer


def test_a_run_stopped_at_its_deadline_resumes_to_the_uninterrupted_result(tmp_path):
    whole = _tiny_run(tmp_path / "whole.safetensors", 12)
    assert whole.finished and not whole.checkpoint.exists()

    first = _tiny_run(tmp_path / "split.safetensors", 12, stop_at=5)
    assert not first.finished and first.checkpoint.exists()
    assert load_file(str(tmp_path / "split.safetensors"))  # weights so far are usable meanwhile
    second = _tiny_run(tmp_path / "split.safetensors", 12)
    assert second.start_step == 5 and second.finished and not second.checkpoint.exists()

    a, b = load_file(str(tmp_path / "whole.safetensors")), load_file(str(tmp_path / "split.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log = (tmp_path / "split.log.jsonl").read_text().splitlines()
    assert log and '"step": 0' in log[0]  # the resumed session appended to the first one's log


def test_fresh_ignores_a_checkpoint_and_a_different_length_is_refused(tmp_path):
    _tiny_run(tmp_path / "w.safetensors", 12, stop_at=3)
    with pytest.raises(SystemExit, match="run of 12 iterations"):
        _tiny_run(tmp_path / "w.safetensors", 20)
    restarted = _tiny_run(tmp_path / "w.safetensors", 20, fresh=True)
    assert restarted.start_step == 0 and restarted.finished


def test_a_run_can_be_cut_short_and_finishes_on_the_new_schedule(tmp_path):
    _tiny_run(tmp_path / "w.safetensors", 40, stop_at=10)
    with pytest.raises(SystemExit, match="already reached step 10"):
        _tiny_run(tmp_path / "w.safetensors", 10, reschedule=True)
    shortened = _tiny_run(tmp_path / "w.safetensors", 16, reschedule=True)
    assert shortened.start_step == 10 and shortened.finished and not shortened.checkpoint.exists()
    # the last step's rate is the new schedule's, near its floor, not the old one's mid-decay rate
    assert shortened.lr == pytest.approx(cosine_lr(15, 16, 1e-2, 2)) and shortened.lr < cosine_lr(15, 40, 1e-2, 2) / 10


def test_the_colour_trainer_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    from restorer.training import train_colorize

    data = tmp_path / "train" / "BSDS500_train"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(data / f"{i}.png")
    out = tmp_path / "colour.safetensors"
    args = ["--data", str(tmp_path / "train"), "--out", str(out), "--iters", "3", "--batch", "2", "--size", "32",
            "--width", "8"]
    # Stop after the first step, as --minutes would, by making the deadline pass at once.
    original = Trainer.step

    def step_then_stop(self, step, loss, meta):
        original(self, step, loss, meta)
        self.deadline = 0.0

    monkeypatch.setattr(Trainer, "step", step_then_stop)
    train_colorize.main(args)
    checkpoint = out.with_name(out.name + ".resume.pt")
    assert checkpoint.exists()
    assert torch.load(checkpoint, weights_only=False)["next_step"] == 1
    monkeypatch.setattr(Trainer, "step", original)
    train_colorize.main(args)
    assert not checkpoint.exists() and out.exists()
    assert load_file(str(out))["enc1.0.weight"].shape[0] == 8
