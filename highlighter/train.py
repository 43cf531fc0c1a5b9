"""Fine-tune an open_clip model into the highlight classifier (linear probe, full fine-tune or LP-FT;
cross-entropy or FLYP-style contrastive loss; WiSE-FT interpolation; resumable; torchrun-ready)."""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from rich.progress import Progress
from torchvision import transforms

from highlighter.atomic import atomic_write
from highlighter.data.dataset import FrameDataset, collect_records, split_games
from highlighter.data.soccernet_v2 import VideoFrameSettings
from highlighter.device import autocast, cuda_autocast_dtype, resolve_device
from highlighter.errors import HighlighterError
from highlighter.frame_eval import evaluate_classifier
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.metrics import ClassificationReport
from highlighter.model import class_embeddings, create_classifier, save_checkpoint
from highlighter.options import BALANCING, LOSSES, MODES

log = logging.getLogger(__name__)

WISE_SWEEP = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class TrainConfig:
    """Every setting of a training run (saved into the checkpoint)."""

    data: list[str]
    out: str = "weights/highlighter"
    model: str = "ViT-B-32"
    pretrained: str | None = "laion2b_s34b_b79k"
    classes: str = "highlight"
    prompts: str | None = None
    mode: str = "lp-ft"
    loss: str = "ce"
    probe_epochs: int = 2
    epochs: int = 5
    probe_lr: float = 1e-3
    lr: float = 1e-5
    weight_decay: float = 0.1
    warmup_steps: int = 20
    batch_size: int = 64
    grad_accum: int = 1
    clip_grad: float = 1.0
    balance: str = "sampler"
    wise_alpha: float | None = None  # None: sweep WISE_SWEEP on val
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_games: dict[str, list[str]] | None = None
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    frame_fps: float = 1.0
    event_window: tuple[float, float] = (-2.0, 6.0)
    background_gap_s: float = 15.0
    decoder: str = "decord"
    cache_dir: str = "~/.cache/highlighter/frames"
    resume: bool = False

    def stages(self) -> list[tuple[str, int, float, bool]]:
        """(name, epochs, learning rate, image tower frozen) for each stage of the mode."""
        probe = ("probe", self.probe_epochs, self.probe_lr, True)
        finetune = ("finetune", self.epochs, self.lr, False)
        return {"probe": [("probe", self.epochs, self.probe_lr, True)], "finetune": [finetune],
                "lp-ft": [probe, finetune]}[self.mode]


@dataclass
class TrainResult:
    """What a run produced."""

    checkpoint: Path
    history: list[dict] = field(default_factory=list)
    wise_alpha: float = 1.0
    wise_sweep: dict[str, float] = field(default_factory=dict)
    test: ClassificationReport | None = None


def wise_interpolate(zero_shot: dict[str, torch.Tensor], fine_tuned: dict[str, torch.Tensor],
                     alpha: float) -> dict[str, torch.Tensor]:
    """WiSE-FT: (1 - alpha) x zero-shot + alpha x fine-tuned, for every floating-point tensor."""
    return {k: torch.lerp(zero_shot[k], v, alpha) if v.is_floating_point() else v for k, v in fine_tuned.items()}


def _distributed() -> tuple[int, int]:
    """(rank, world size); joins the process group when started by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (torch.distributed.get_rank(), world) if world > 1 else (0, 1)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    """One training run; ``run()`` does it all, ``on_epoch`` sees each epoch's metrics."""

    def __init__(self, config: TrainConfig, progress: Progress | None = None,
                 on_epoch: Callable[[dict, ClassificationReport], None] | None = None) -> None:
        for value, allowed, option in ((config.mode, MODES, "--mode"), (config.loss, LOSSES, "--loss"),
                                       (config.balance, BALANCING, "--balance")):
            if value not in allowed:
                raise HighlighterError(f"{option} {value!r}: choose one of {', '.join(allowed)}")
        if sum(epochs for _, epochs, _, _ in config.stages()) < 1 or min(e for _, e, _, _ in config.stages()) < 0:
            raise HighlighterError("--epochs (and --probe-epochs) must leave at least one training epoch")
        self.config, self.progress, self.on_epoch = config, progress, on_epoch
        self.rank, self.world = _distributed()
        self.device = resolve_device(config.device)
        # fp16 autocast (CUDA without bf16) needs loss scaling; with bf16 or on CPU the scaler is a no-op
        fp16 = self.device.type == "cuda" and cuda_autocast_dtype() == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=fp16)
        self.out = Path(config.out)
        self.resume_file = self.out.with_name(f"{self.out.name}.resume.pt")
        self._check_writable()

    def _check_writable(self) -> None:
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.out.parent / f".{self.out.name}.probe", durable=False) as handle:
                handle.write("")
            (self.out.parent / f".{self.out.name}.probe").unlink()
        except OSError as exc:
            raise HighlighterError(f"{self.out}: cannot write the checkpoint here ({exc.strerror})") from None

    # --- data -------------------------------------------------------------------------------------

    def _datasets(self, classes: list[str], image_size: int, mean, std) -> dict[str, FrameDataset]:
        config = self.config
        label_map = self.label_map
        settings = VideoFrameSettings(fps=config.frame_fps, size=image_size, window=tuple(config.event_window),
                                      background_gap_s=config.background_gap_s, decoder=config.decoder, seed=config.seed)
        records = collect_records(config.data, label_map, settings, Path(config.cache_dir).expanduser(), self.progress)
        games = sorted({r.game for r in records})
        splits = config.split_games or split_games(games, tuple(config.split), config.seed)
        unknown = sorted(set(sum(splits.values(), [])) - set(games))
        if unknown:
            raise HighlighterError(f"split names games that are not in the data: {', '.join(unknown[:3])}")
        evaluation = open_clip.image_transform(image_size, is_train=False, mean=mean, std=std)
        training = transforms.Compose([transforms.RandomHorizontalFlip(), evaluation])
        datasets = {}
        for split, split_games_ in splits.items():
            chosen = [r for r in records if r.game in set(split_games_)]
            datasets[split] = FrameDataset(chosen, label_map, classes, training if split == "train" else evaluation)
        counts = Counter(classes[t] for t in datasets["train"].targets)
        empty = [cls for cls in classes if counts[cls] == 0]
        if empty:
            raise HighlighterError(f"no training images for class {', '.join(map(repr, empty))} in the train games "
                                   f"({len(splits['train'])}); add data or change --classes")
        self.data_summary = {
            split: {"games": len(splits[split]), "game_list": splits[split],
                    "images": dict(Counter(classes[t] for t in ds.targets))}
            for split, ds in datasets.items()
        }
        return datasets

    def _loader(self, dataset: FrameDataset, train: bool, epoch: int = 0) -> torch.utils.data.DataLoader:
        config = self.config
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        sampler = None
        if train and self.world > 1:
            sampler = torch.utils.data.DistributedSampler(dataset, shuffle=True, seed=config.seed)
            sampler.set_epoch(epoch)
        elif train and config.balance == "sampler":
            counts = np.bincount(dataset.targets, minlength=len(self.classes))
            weights = [1.0 / counts[t] for t in dataset.targets]
            sampler = torch.utils.data.WeightedRandomSampler(weights, len(dataset), replacement=True, generator=generator)
        return torch.utils.data.DataLoader(
            dataset, batch_size=config.batch_size, sampler=sampler, shuffle=train and sampler is None,
            generator=generator if train and sampler is None else None, num_workers=config.workers,
            pin_memory=self.device.type == "cuda", drop_last=False)

    # --- model ------------------------------------------------------------------------------------

    def _class_text(self) -> torch.Tensor:
        """Class embeddings from the (trainable) text tower, for the contrastive loss."""
        return class_embeddings(self.clip, self.tokens, self.classes)

    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        if self.config.loss == "contrastive":
            return self.clip.logit_scale.exp() * self.classifier.features(images) @ self._class_text().T
        return self.classifier(images)

    def _loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.config.loss == "ce":
            return F.cross_entropy(logits, targets, weight=self.class_weights)
        # FLYP-style: image-to-text and text-to-image contrastive terms over the batch; images of the
        # same class are all positives of that class's text
        image_to_text = F.cross_entropy(logits, targets)
        positives = F.one_hot(targets, len(self.classes)).T.bool()  # (classes, batch)
        present = positives.any(dim=1)
        by_text = logits.T[present]
        text_to_image = (torch.logsumexp(by_text, 1) - torch.logsumexp(by_text.masked_fill(~positives[present], -1e4), 1))
        return (image_to_text + text_to_image.mean()) / 2

    def _trainable(self, frozen_tower: bool) -> list[torch.nn.Parameter]:
        for p in self.clip.parameters():
            p.requires_grad_(False)
        for p in self.classifier.head.parameters():
            p.requires_grad_(self.config.loss == "ce")
        for p in self.classifier.visual.parameters():
            p.requires_grad_(not frozen_tower)
        if self.config.loss == "contrastive":
            for name, p in self.clip.named_parameters():
                if not name.startswith("visual."):
                    p.requires_grad_(not frozen_tower or name == "logit_scale" or "text_projection" in name)
        params = {id(p): p for p in list(self.classifier.parameters()) + list(self.clip.parameters()) if p.requires_grad}
        return list(params.values())

    def _optimizer(self, params, lr: float, steps: int):
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": self.config.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=lr)
        warmup = min(self.config.warmup_steps, max(steps // 5, 1))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return 0.5 * (1 + math.cos(math.pi * min((step - warmup) / max(steps - warmup, 1), 1.0)))

        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    def _head_state(self) -> dict[str, torch.Tensor]:
        """The classifier's weights; with the contrastive loss the head is the current text embedding."""
        if self.config.loss == "contrastive":
            with torch.no_grad():
                self.classifier.head.weight.copy_(self.clip.logit_scale.exp() * self._class_text())
                self.classifier.head.bias.zero_()
        return {k: v.detach().clone() for k, v in self.classifier.state_dict().items()}

    # --- loops ------------------------------------------------------------------------------------

    def evaluate(self, dataset: FrameDataset, description: str = "val") -> ClassificationReport:
        """Loss and classification metrics of the current weights on ``dataset``."""
        progress = self.progress if self.rank == 0 else None
        return evaluate_classifier(self.classifier, self._loader(dataset, train=False), self.device, progress, description)

    def _train_epoch(self, epoch: int, stage: str, optimizer, scheduler, dataset: FrameDataset) -> tuple[float, float]:
        """One pass over the train games; returns the mean loss and the images per second."""
        config = self.config
        started = time.perf_counter()
        torch.manual_seed(config.seed * 1000 + epoch)  # augmentation draws: the same after --resume
        self.classifier.train()
        self.clip.train()
        loader = self._loader(dataset, train=True, epoch=epoch)
        task = None
        if self.progress and self.rank == 0:
            task = self.progress.add_task(f"epoch {epoch + 1} ({stage})", total=len(loader.sampler))
        total, seen = 0.0, 0
        optimizer.zero_grad(set_to_none=True)
        for step, (images, targets) in enumerate(loader):
            images = images.to(self.device, non_blocking=True)
            targets = targets.to(self.device, non_blocking=True)
            with autocast(self.device):
                loss = self._loss(self._logits(images).float(), targets)
            self.scaler.scale(loss / config.grad_accum).backward()
            if (step + 1) % config.grad_accum == 0 or step + 1 == len(loader):
                params = [p for group in optimizer.param_groups for p in group["params"]]
                if self.world > 1:  # data parallel: every rank steps with the mean gradient
                    for param in params:
                        if param.grad is not None:
                            torch.distributed.all_reduce(param.grad)
                            param.grad /= self.world
                self.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, config.clip_grad)
                self.scaler.step(optimizer)
                self.scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            total += loss.item() * len(targets)
            seen += len(targets)
            if task is not None:
                self.progress.advance(task, len(targets))
        if task is not None:
            self.progress.remove_task(task)
        return total / max(seen, 1), seen / (time.perf_counter() - started)

    def run(self) -> TrainResult:
        """Train, keep the best epoch by val macro-F1, apply WiSE-FT, score on test, save."""
        config = self.config
        _seed_everything(config.seed)
        self.label_map = load_label_map(config.classes)
        self.classes = [BACKGROUND] + [c for c in self.label_map.classes if c != BACKGROUND]
        self.classifier, self.clip, tokenizer = create_classifier(config.model, self.classes, config.pretrained,
                                                                  config.prompts)
        spec = self.classifier.spec
        self.tokens = {cls: tokenizer(spec.prompts[cls]) for cls in self.classes}
        datasets = self._datasets(self.classes, spec.image_size, spec.mean, spec.std)
        counts = np.bincount(datasets["train"].targets, minlength=len(self.classes))
        self.class_weights = None
        if config.balance == "loss" or (config.balance == "sampler" and self.world > 1):
            self.class_weights = torch.tensor(counts.sum() / (len(counts) * counts), dtype=torch.float32, device=self.device)
        self.classifier.to(self.device)
        self.clip.to(self.device)
        for key, tensor in self.tokens.items():
            self.tokens[key] = tensor.to(self.device)
        zero_shot = self._head_state()
        history: list[dict] = []
        best = {"macro_f1": -math.inf, "epoch": -1}  # the score of the best epoch so far (val macro-F1, or -train loss)
        start_epoch, state = 0, None
        if config.resume and self.resume_file.exists():
            state = self._read_resume()
            self.clip.load_state_dict(state["clip"])
            self.classifier.load_state_dict(state["classifier"])
            zero_shot, history, best, start_epoch = state["zero_shot"], state["history"], state["best"], state["epoch"] + 1
            log.info("resuming after epoch %d", start_epoch)
        elif config.resume:
            log.warning("%s: nothing to resume; starting from the beginning", self.resume_file)
        best_state = self._load_best(best)

        epoch = 0
        for stage, epochs, lr, frozen in config.stages():
            params = self._trainable(frozen)
            steps = epochs * math.ceil(len(self._loader(datasets["train"], True)) / config.grad_accum)
            optimizer, scheduler = self._optimizer(params, lr, steps)
            if state is not None and epoch < start_epoch < epoch + epochs:  # resume inside this stage
                optimizer.load_state_dict(state["optimizer"])
                scheduler.load_state_dict(state["scheduler"])
            for _ in range(epochs):
                if epoch < start_epoch:
                    epoch += 1
                    continue
                train_loss, speed = self._train_epoch(epoch, stage, optimizer, scheduler, datasets["train"])
                current = self._head_state()
                report = self.evaluate(datasets["val"]) if len(datasets["val"]) else None
                row = {"epoch": epoch + 1, "stage": stage, "train_loss": train_loss, "train_images_per_s": speed,
                       "val": report.to_dict() if report else None}
                history.append(row)
                score = report.macro_f1 if report else -train_loss
                if score > best["macro_f1"]:
                    best = {"macro_f1": score, "epoch": epoch + 1}
                    best_state = current
                    self._save(current, history, zero_shot=zero_shot)
                if self.on_epoch and self.rank == 0:
                    self.on_epoch(row, report)
                self._save_resume(epoch, optimizer, scheduler, zero_shot, history, best)
                epoch += 1
        return self._finish(datasets, zero_shot, best_state, history)

    def _read_resume(self) -> dict:
        """The saved training state: plain tensors and containers only (``weights_only``), so a planted
        file cannot run code."""
        try:
            return torch.load(self.resume_file, map_location=self.device, weights_only=True)
        except Exception as exc:  # torch raises UnpicklingError, RuntimeError or EOFError by damage
            reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
            raise HighlighterError(f"{self.resume_file}: not a resume state of `highlight train` ({reason}); "
                                   "delete it to start over") from None

    def _load_best(self, best: dict) -> dict[str, torch.Tensor] | None:
        if best["epoch"] < 0 or not (self.out / "model.safetensors").exists():
            return None
        from safetensors.torch import load_file

        saved = load_file(str(self.out / "model.safetensors"), device=str(self.device))
        return {k: saved[k] for k in self.classifier.state_dict()}

    def _finish(self, datasets, zero_shot, best_state, history) -> TrainResult:
        config = self.config
        sweep = {}
        if not len(datasets["val"]):
            best_alpha = 1.0 if config.wise_alpha is None else config.wise_alpha
            log.warning("no validation games: nothing was validated; kept the epoch with the lowest train loss "
                        "and WiSE-FT alpha %g (no sweep). Add games (or val games to --split-file) to select on "
                        "held-out data", best_alpha)
        elif config.wise_alpha is not None:
            best_alpha = config.wise_alpha
        else:
            best_alpha, best_score = 1.0, -math.inf
            for alpha in WISE_SWEEP:
                self.classifier.load_state_dict(wise_interpolate(zero_shot, best_state, alpha))
                score = self.evaluate(datasets["val"], f"WiSE-FT alpha {alpha}").macro_f1
                sweep[str(alpha)] = score
                if score >= best_score:
                    best_alpha, best_score = alpha, score
        final = wise_interpolate(zero_shot, best_state, best_alpha)
        self.classifier.load_state_dict(final)
        test = self.evaluate(datasets["test"], "test") if len(datasets["test"]) else None
        result = TrainResult(self.out, history, best_alpha, sweep, test)
        self._save(final, history, zero_shot=zero_shot, result=result)
        if self.rank == 0:
            self.resume_file.unlink(missing_ok=True)
        return result

    def _save(self, state, history, zero_shot, result: TrainResult | None = None) -> None:
        if self.rank != 0:
            return
        spec = self.classifier.spec
        config = asdict(self.config)
        spec.extra = {
            "label_map": {"name": self.label_map.name, "sources": self.label_map.sources},
            "training": config,
            "data": self.data_summary,
            "metrics": {"history": history,
                        "wise_ft": {"alpha": result.wise_alpha, "sweep": result.wise_sweep} if result else None,
                        "test": result.test.to_dict() if result and result.test else None},
            "complete": result is not None,
        }
        current = {k: v.detach().clone() for k, v in self.classifier.state_dict().items()}
        self.classifier.load_state_dict(state)
        save_checkpoint(self.out, self.classifier,
                        extra_tensors={f"zero_shot.{k}": v for k, v in zero_shot.items()},
                        extra_files={"metrics.json": spec.extra["metrics"]})
        self.classifier.load_state_dict(current)

    def _save_resume(self, epoch, optimizer, scheduler, zero_shot, history, best) -> None:
        if self.rank != 0:
            return
        state = {"epoch": epoch, "clip": self.clip.state_dict(), "classifier": self.classifier.state_dict(),
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "zero_shot": zero_shot, "history": history, "best": best}
        with atomic_write(self.resume_file, "wb") as handle:
            torch.save(state, handle)
