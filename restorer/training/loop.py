"""What every training script shares: schedule, weight averaging, logging, checkpoints."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch


def cosine_lr(step: int, total: int, peak: float, warmup: int, floor: float = 0.01) -> float:
    """Linear warm-up to `peak`, then cosine decay to `floor * peak`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class EmaWeights:
    """Exponential moving average of a network's weights; the averaged weights are what we ship.

    With `warmup`, the decay ramps up from 0 so the average does not start from random weights.
    """

    def __init__(self, net: torch.nn.Module, decay: float = 0.999, warmup: bool = True) -> None:
        self.decay, self.warmup, self.steps = decay, warmup, 0
        self.state = {k: v.detach().clone().float() for k, v in net.state_dict().items()}

    @torch.no_grad()
    def update(self, net: torch.nn.Module) -> None:
        self.steps += 1
        decay = min(self.decay, self.steps / (self.steps + 9)) if self.warmup else self.decay
        for key, value in net.state_dict().items():
            self.state[key].mul_(decay).add_(value.float(), alpha=1 - decay)


def save_fp16(state: dict[str, torch.Tensor], path: Path, meta: dict[str, str]) -> None:
    """Write `state` as fp16 safetensors atomically."""
    from safetensors.torch import save_file

    tmp = path.with_suffix(".tmp")
    save_file({k: v.detach().to(torch.float16).contiguous().cpu() for k, v in state.items()}, str(tmp), metadata=meta)
    tmp.chmod(0o644)  # safetensors creates 0600 files; weights are meant to be shared
    tmp.replace(path)


class TrainingRun:
    """Progress log (JSON lines next to the weights, and stdout) plus periodic checkpoints."""

    def __init__(self, out: Path, total: int, *, log_every: int = 25, save_every: int = 250) -> None:
        self.out, self.total, self.log_every, self.save_every = out, total, log_every, save_every
        out.parent.mkdir(parents=True, exist_ok=True)
        self._log = out.with_suffix(".log.jsonl").open("w")
        self.start = time.time()
        self.running_loss = 0.0

    def step(self, step: int, loss: float, lr: float, ema: EmaWeights, meta: dict[str, str]) -> None:
        self.running_loss = 0.98 * self.running_loss + 0.02 * loss if step else loss
        last = step == self.total - 1
        if step % self.log_every == 0 or last:
            record = {"step": step, "loss": round(self.running_loss, 5), "lr": lr,
                      "elapsed_s": round(time.time() - self.start, 1)}
            self._log.write(json.dumps(record) + "\n")
            self._log.flush()
            print(record, flush=True)
        if (step + 1) % self.save_every == 0 or last:
            save_fp16(ema.state, self.out, meta={"iters": str(step + 1), "wall_s": f"{time.time() - self.start:.0f}",
                                                 **meta})

    def close(self) -> None:
        self._log.close()
        print(f"done in {time.time() - self.start:.0f} s -> {self.out}", flush=True)


class Trainer:
    """Adam, the learning-rate schedule, weight averaging, clipping, log and checkpoints for one net.

    Each script's loop is then: `trainer.set_lr(step)`, compute the loss, `trainer.step(step, loss, meta)`.
    """

    def __init__(self, net: torch.nn.Module, out: Path, total: int, peak_lr: float, *, warmup: int,
                 floor: float = 0.01, ema_decay: float = 0.999, ema_warmup: bool = True,
                 clip: float | None = None) -> None:
        self.net, self.total, self.peak_lr, self.warmup, self.floor, self.clip = net, total, peak_lr, warmup, floor, clip
        self.optimizer = torch.optim.Adam(net.parameters(), lr=peak_lr, betas=(0.9, 0.99))
        self.ema = EmaWeights(net, ema_decay, warmup=ema_warmup)
        self.run = TrainingRun(out, total)
        self.lr = peak_lr

    def set_lr(self, step: int) -> None:
        self.lr = cosine_lr(step, self.total, self.peak_lr, self.warmup, self.floor)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr

    def step(self, step: int, loss: torch.Tensor, meta: dict[str, str]) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
        self.optimizer.step()
        self.ema.update(self.net)
        self.run.step(step, loss.item(), self.lr, self.ema, meta)

    def close(self) -> None:
        self.run.close()


def add_common_arguments(parser, *, iters: int, batch: int, lr: float) -> None:
    """The options every training script takes."""
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--iters", type=int, default=iters)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--init", type=Path, help="start from these weights (safetensors) instead of random ones")


def load_initial(net: torch.nn.Module, path: Path | None) -> None:
    """Continue training from a weights file (e.g. the bundled one); strict, so a wrong file fails loudly."""
    if path is not None:
        from safetensors.torch import load_file

        net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()}, strict=True)
        print(f"starting from {path}", flush=True)


def prepare(args) -> tuple:
    """Seed torch and numpy, load the training photos: (numpy generator, images, device)."""
    import numpy as np

    from restorer.training.data import list_training_images, load_images

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    images = load_images(list_training_images(args.data))
    print(f"{len(images)} training images", flush=True)
    return rng, images, torch.device(args.device)
