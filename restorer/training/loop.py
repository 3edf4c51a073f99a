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
    """Progress log (JSON lines next to the weights, and stdout) plus periodic weight files.

    `elapsed_before` is the wall time of earlier sessions of a resumed run, so the
    log and the weights' metadata give the run's whole cost.
    """

    def __init__(self, out: Path, total: int, *, log_every: int = 25, save_every: int = 250,
                 elapsed_before: float = 0.0, append: bool = False) -> None:
        self.out, self.total, self.log_every, self.save_every = out, total, log_every, save_every
        out.parent.mkdir(parents=True, exist_ok=True)
        self._log = out.with_suffix(".log.jsonl").open("a" if append else "w")
        self.start = time.time() - elapsed_before
        self.running_loss = 0.0
        self._fresh = True

    def elapsed(self) -> float:
        return time.time() - self.start

    def step(self, step: int, loss: float, lr: float, ema: EmaWeights, meta: dict[str, str]) -> None:
        self.running_loss = loss if self._fresh else 0.98 * self.running_loss + 0.02 * loss
        self._fresh = False
        last = step == self.total - 1
        if step % self.log_every == 0 or last:
            record = {"step": step, "loss": round(self.running_loss, 5), "lr": lr, "elapsed_s": round(self.elapsed(), 1)}
            self._log.write(json.dumps(record) + "\n")
            self._log.flush()
            print(record, flush=True)
        if (step + 1) % self.save_every == 0 or last:
            self.save_weights(ema, step + 1, meta)

    def save_weights(self, ema: EmaWeights, iters: int, meta: dict[str, str]) -> None:
        save_fp16(ema.state, self.out, meta={"iters": str(iters), "wall_s": f"{self.elapsed():.0f}", **meta})

    def close(self) -> None:
        self._log.close()
        print(f"done in {self.elapsed():.0f} s -> {self.out}", flush=True)


def training_autocast(device: torch.device):
    """bf16 autocast where it is a fast path (CUDA; CPUs with native bf16 kernels), else plain fp32.

    Without AMX or AVX512-BF16, oneDNN either refuses bf16 convolutions or emulates them
    more slowly than fp32, so such CPUs train in fp32.
    """
    import contextlib

    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Trainer:
    """Adam, the learning-rate schedule, weight averaging, clipping, log and checkpoints for one net.

    Each script's loop is:

        for step in trainer.steps():
            loss = ...
            trainer.step(step, loss, meta)
        trainer.close()

    Runs are resumable and time-bounded. Beside the weights (`out`) the trainer keeps
    `out` + ".resume.pt": network, weight average, optimiser, step, elapsed wall time
    and the random generators' states, written with every weights file and when
    `minutes` run out. The same command started again continues from it, on this
    machine or another; `fresh=True` ignores it. It is removed when the run completes.
    `reschedule=True` continues it with a different `total` (a run cut short, or lengthened, to fit
    the time there is): the learning-rate schedule is recomputed for the new length from the step
    the run has reached.
    """

    def __init__(self, net: torch.nn.Module, out: Path, total: int, peak_lr: float, *, warmup: int,
                 floor: float = 0.01, ema_decay: float = 0.999, ema_warmup: bool = True,
                 clip: float | None = None, rng=None, minutes: float | None = None, fresh: bool = False,
                 reschedule: bool = False) -> None:
        self.net, self.total, self.peak_lr, self.warmup, self.floor, self.clip = net, total, peak_lr, warmup, floor, clip
        self.out, self.rng = Path(out), rng
        self.optimizer = torch.optim.Adam(net.parameters(), lr=peak_lr, betas=(0.9, 0.99))
        self.ema = EmaWeights(net, ema_decay, warmup=ema_warmup)
        self.checkpoint = self.out.with_name(self.out.name + ".resume.pt")
        self.start_step, elapsed = 0, 0.0
        if self.checkpoint.is_file() and not fresh:
            self.start_step, elapsed = self._load_checkpoint(reschedule)
            print(f"resuming at step {self.start_step} of {total} ({elapsed:.0f} s done) from {self.checkpoint}",
                  flush=True)
        self.run = TrainingRun(self.out, total, elapsed_before=elapsed, append=self.start_step > 0)
        self.session_start = time.time()
        self.deadline = None if minutes is None else self.session_start + 60.0 * minutes
        self.lr = peak_lr
        self.finished = False
        self._meta: dict[str, str] = {}

    # --- the loop -----------------------------------------------------------------------

    def steps(self):
        """Step indices from where the run stands to the end, stopping early (after a checkpoint) at the deadline."""
        for step in range(self.start_step, self.total):
            if self.deadline is not None and time.time() >= self.deadline:
                self.save_checkpoint(step)
                self.run.save_weights(self.ema, step, self._meta)
                print(f"time limit reached at step {step} of {self.total}; run the same command again to continue",
                      flush=True)
                return
            self.set_lr(step)
            yield step
        self.finished = True

    def set_lr(self, step: int) -> None:
        self.lr = cosine_lr(step, self.total, self.peak_lr, self.warmup, self.floor)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr

    def step(self, step: int, loss: torch.Tensor, meta: dict[str, str]) -> None:
        self._meta = meta
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
        self.optimizer.step()
        self.ema.update(self.net)
        self.run.step(step, loss.item(), self.lr, self.ema, meta)
        if (step + 1) % self.run.save_every == 0 and step + 1 < self.total:
            self.save_checkpoint(step + 1)

    def close(self) -> None:
        self.run.close()
        if self.finished:
            self.checkpoint.unlink(missing_ok=True)

    # --- checkpoints --------------------------------------------------------------------

    def save_checkpoint(self, next_step: int) -> None:
        """Everything needed to continue at `next_step`, written atomically."""
        state = {"next_step": next_step, "total": self.total, "elapsed_s": self.run.elapsed(),
                 "net": self.net.state_dict(), "ema": self.ema.state, "ema_steps": self.ema.steps,
                 "optimizer": self.optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
                 "numpy_rng": None if self.rng is None else self.rng.bit_generator.state}
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint)

    def _load_checkpoint(self, reschedule: bool) -> tuple[int, float]:
        state = torch.load(self.checkpoint, map_location="cpu", weights_only=False)
        if state["total"] != self.total:
            if not reschedule:
                raise SystemExit(f"{self.checkpoint} belongs to a run of {state['total']} iterations, not {self.total}; "
                                 "pass --fresh to start over, --reschedule to continue it with the new length, "
                                 "or the original --iters to continue")
            if state["next_step"] >= self.total:
                raise SystemExit(f"{self.checkpoint} has already reached step {state['next_step']}; "
                                 f"--iters {self.total} would end it before it continues")
            print(f"rescheduled from {state['total']} to {self.total} iterations", flush=True)
        self.net.load_state_dict(state["net"])
        self.ema.state = {k: v.float() for k, v in state["ema"].items()}
        self.ema.steps = state["ema_steps"]
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if self.rng is not None and state["numpy_rng"] is not None:
            self.rng.bit_generator.state = state["numpy_rng"]
        return int(state["next_step"]), float(state["elapsed_s"])


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
    parser.add_argument("--minutes", type=float,
                        help="stop after this many minutes with a checkpoint; the same command continues the run")
    parser.add_argument("--fresh", action="store_true", help="ignore a checkpoint left by an earlier session")
    parser.add_argument("--reschedule", action="store_true",
                        help="continue a checkpoint with a different --iters (the schedule follows the new length)")


def run_options(args) -> dict:
    """The Trainer keywords that come from the common options: time limit, fresh start, reschedule."""
    return {"minutes": args.minutes, "fresh": args.fresh, "reschedule": args.reschedule}


def load_initial(net: torch.nn.Module, path: Path | None) -> None:
    """Continue training from a weights file (e.g. the bundled one); strict, so a wrong file fails loudly."""
    if path is not None:
        from safetensors.torch import load_file

        net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()}, strict=True)
        print(f"starting from {path}", flush=True)


def prepare(args, folders: tuple[str, ...] | None = None) -> tuple:
    """Seed torch and numpy, load the training photos: (numpy generator, images, device)."""
    import numpy as np

    from restorer.training.data import TRAIN_FOLDERS, list_training_images, load_images

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    images = load_images(list_training_images(args.data, folders or TRAIN_FOLDERS))
    print(f"{len(images)} training images", flush=True)
    return rng, images, torch.device(args.device)
