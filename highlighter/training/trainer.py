"""The training loop: linear probe, full fine-tune or LP-FT; cross-entropy or FLYP-style contrastive loss;
AdamW with warm-up and cosine decay; bf16/fp16 mixed precision on GPUs; data parallelism under
``torchrun`` (DistributedDataParallel: NCCL on GPUs, gloo on CPUs); a resume state after every epoch;
checkpoints swapped in whole."""

from __future__ import annotations

import itertools
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import Progress
from torch import nn

from highlighter.atomic import atomic_write
from highlighter.data.dataset import FrameDataset
from highlighter.model.device import autocast, cuda_autocast_dtype, resolve_device
from highlighter.errors import HighlighterError
from highlighter.evaluation.frames import evaluate_classifier
from highlighter.evaluation.metrics import ClassificationReport
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.model.classifier import HighlightClassifier, class_embeddings, create_classifier, save_checkpoint
from highlighter.progress import Tracker
from highlighter.config.settings import AudioSettings, SmootherSettings, TrainSettings, VideoSettings
from highlighter.provenance import trained_on
from highlighter.training.datasets import (
    TrainingData,
    build_datasets,
    class_weights,
    global_steps,
    make_loader,
    start_epoch,
)
from highlighter.training.wise import BestEpoch, choose_wise_alpha, wise_interpolate

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a run produced."""

    checkpoint: Path
    history: list[dict] = field(default_factory=list)
    wise_alpha: float = 1.0
    wise_sweep: dict[str, float] = field(default_factory=dict)
    test: ClassificationReport | None = None


@dataclass(frozen=True)
class Rank:
    """This process's place in a data-parallel run (one process: rank 0 of 1)."""

    rank: int
    world: int
    local: int

    @property
    def leads(self) -> bool:
        """Rank 0 logs, checks the output folder and writes checkpoints and resume state."""
        return self.rank == 0


def join_process_group() -> Rank:
    """The rank ``torchrun`` gave this process; joins its process group (NCCL on GPUs, gloo on CPUs)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Rank(0, 1, 0)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)  # each rank its own GPU, not all on GPU 0
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Rank(torch.distributed.get_rank(), world, local)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class TrainStep(nn.Module):
    """Images to class logits: through the head (cross-entropy), or against the text tower's class
    embeddings (contrastive). One module, so DistributedDataParallel can wrap what trains."""

    def __init__(self, classifier: HighlightClassifier, clip: nn.Module, tokens: dict[str, torch.Tensor],
                 contrastive: bool) -> None:
        super().__init__()
        self.classifier, self.clip, self.contrastive = classifier, clip, contrastive
        self.tokens = tokens

    def class_text(self) -> torch.Tensor:
        """Class embeddings from the (trainable) text tower."""
        return class_embeddings(self.clip, self.tokens, list(self.classifier.spec.classes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.contrastive:
            return self.clip.logit_scale.exp() * self.classifier.features(images) @ self.class_text().T
        return self.classifier(images)


def contrastive_loss(logits: torch.Tensor, targets: torch.Tensor, classes: int) -> torch.Tensor:
    """FLYP-style: image-to-text and text-to-image terms over the batch; images of a class are all
    positives of that class's text."""
    image_to_text = F.cross_entropy(logits, targets)
    positives = F.one_hot(targets, classes).T.bool()  # (classes, batch)
    present = positives.any(dim=1)
    by_text = logits.T[present]
    text_to_image = torch.logsumexp(by_text, 1) - torch.logsumexp(by_text.masked_fill(~positives[present], -1e4), 1)
    return (image_to_text + text_to_image.mean()) / 2


def warmup_cosine(optimizer: torch.optim.Optimizer, steps: int, warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up (at most a fifth of the steps), then cosine decay to zero."""
    warmup = min(warmup_steps, max(steps // 5, 1))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min((step - warmup) / max(steps - warmup, 1), 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)


class Trainer:
    """One training run; ``run()`` does it all, ``on_epoch`` sees each epoch's metrics."""

    def __init__(self, config: TrainSettings, video: VideoSettings, audio: AudioSettings, smoother: SmootherSettings,
                 progress: Progress | None = None,
                 on_epoch: Callable[[dict, ClassificationReport | None], None] | None = None) -> None:
        if not config.data:
            raise HighlighterError("no training data: give --data with a folder of SoccerNet games")
        if sum(epochs for _, epochs, _, _ in config.stages()) < 1 or min(e for _, e, _, _ in config.stages()) < 0:
            raise HighlighterError("--epochs (and --probe-epochs) must leave at least one training epoch")
        self.config, self.video, self.progress, self.on_epoch = config, video, progress, on_epoch
        self.audio, self.smoother = audio, smoother  # the fusion's cue, and the smoother its val games use
        self.rank = join_process_group()
        self.device = resolve_device(f"cuda:{self.rank.local}" if config.device == "auto" and self.rank.world > 1
                                     and torch.cuda.is_available() else config.device)
        # fp16 autocast (GPUs without native bf16) needs loss scaling; with bf16 or on CPU it is a no-op
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.device.type == "cuda"
                                           and cuda_autocast_dtype() == torch.float16)
        self.out = Path(config.out)
        self.resume_file = self.out.with_name(f"{self.out.name}.resume.pt")
        self.eval_loaders: dict[int, torch.utils.data.DataLoader] = {}
        self.spotting_head = None  # the temporal spotting head once fitted (after the image model)
        if self.rank.leads:
            self._check_writable()

    def _check_writable(self) -> None:
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.out.parent / f".{self.out.name}.probe", durable=False) as handle:
                handle.write("")
            (self.out.parent / f".{self.out.name}.probe").unlink()
        except OSError as exc:
            raise HighlighterError(f"{self.out}: cannot write the checkpoint here ({exc.strerror})") from None

    # --- parts --------------------------------------------------------------------------------------

    def _build(self) -> None:
        config = self.config
        seed_everything(config.seed)
        self.label_map = load_label_map(config.classes)
        self.classes = [BACKGROUND] + [c for c in self.label_map.classes if c != BACKGROUND]
        self.classifier, self.clip, tokenizer = create_classifier(config.model, self.classes, config.pretrained,
                                                                  config.prompts)
        self.data: TrainingData = build_datasets(config, self.video, self.label_map, self.classifier.spec,
                                                 self.progress)
        self.data_summary = self.data.summary
        self.trained_on = trained_on(self.data_summary, self.config.data, self.classifier.spec.classes)
        weighted = config.balance == "loss" or (config.balance == "sampler" and self.rank.world > 1)
        self.class_weights = class_weights(self.data.splits["train"], len(self.classes)).to(self.device) if weighted \
            else None
        tokens = {cls: tokenizer(self.classifier.spec.prompts[cls]).to(self.device) for cls in self.classes}
        self.classifier.to(self.device)
        self.clip.to(self.device)
        self.step = TrainStep(self.classifier, self.clip, tokens, config.loss == "contrastive")

    def _loss_sum(self, logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's loss summed over its images (each weighted by its class weight, if any) and the sum of
        those weights: the mean over a global batch is the sum of the ranks' sums over the sum of their weights.
        The contrastive loss does not split by image: each rank's mean counts with its share of the images."""
        if self.config.loss == "ce":
            weights = self.class_weights[targets] if self.class_weights is not None else torch.ones_like(logits[:, 0])
            return F.cross_entropy(logits, targets, weight=self.class_weights, reduction="sum"), weights.sum()
        count = torch.tensor(float(len(targets)), device=logits.device)
        return contrastive_loss(logits, targets, len(self.classes)) * count, count

    def _blank_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One blank image and a class: what a rank steps on when its share of a global batch is empty."""
        size = self.classifier.spec.image_size
        return torch.zeros((1, 3, size, size)), torch.zeros(1, dtype=torch.long)

    def _trainable(self, frozen_tower: bool) -> list[nn.Parameter]:
        contrastive = self.config.loss == "contrastive"
        for p in self.clip.parameters():
            p.requires_grad_(False)
        for p in self.classifier.head.parameters():
            p.requires_grad_(not contrastive)
        for p in self.classifier.visual.parameters():
            p.requires_grad_(not frozen_tower)
        if contrastive:
            for name, p in self.clip.named_parameters():
                if not name.startswith("visual."):
                    p.requires_grad_(not frozen_tower or name == "logit_scale" or "text_projection" in name)
        params = {id(p): p for p in self.step.parameters() if p.requires_grad}
        return list(params.values())

    def _optimizer(self, params: list[nn.Parameter], lr: float, steps: int):
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": self.config.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=lr)
        return optimizer, warmup_cosine(optimizer, steps, self.config.warmup_steps)

    def _wrapped(self) -> nn.Module:
        """The train step, wrapped for data parallelism when there are several ranks (rebuilt per stage:
        the trainable parameters change)."""
        if self.rank.world == 1:
            return self.step
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(self.step, device_ids=device_ids)

    def _head_state(self) -> dict[str, torch.Tensor]:
        """The classifier's weights; with the contrastive loss the head is the current text embedding."""
        if self.config.loss == "contrastive":
            with torch.no_grad():
                self.classifier.head.weight.copy_(self.clip.logit_scale.exp() * self.step.class_text())
                self.classifier.head.bias.zero_()
        return {k: v.detach().clone() for k, v in self.classifier.state_dict().items()}

    # --- loops --------------------------------------------------------------------------------------

    def evaluate(self, dataset: FrameDataset, description: str = "val") -> ClassificationReport:
        """Loss and classification metrics of the current weights on ``dataset``."""
        progress = self.progress if self.rank.leads else None
        if id(dataset) not in self.eval_loaders:  # one loader per dataset: its workers persist
            self.eval_loaders[id(dataset)] = make_loader(dataset, self.config, self.device, train=False)
        return evaluate_classifier(self.classifier, self.eval_loaders[id(dataset)], self.device, progress, description)

    def _train_epoch(self, epoch: int, stage: str, model: nn.Module, loader, optimizer, scheduler) -> tuple[float, float]:
        """One pass over the train games; returns the mean loss (over every rank) and images per second."""
        config = self.config
        started = time.perf_counter()
        torch.manual_seed(config.seed * 1000 + epoch)  # other draws of the step (dropout): the same after --resume
        start_epoch(loader, config.seed, epoch)
        model.train()
        tracker = Tracker(self.progress if self.rank.leads else None, f"epoch {epoch + 1} ({stage})",
                          len(loader.sampler))
        total = torch.zeros((), device=self.device)  # summed on the device: no wait for it every step
        weight = torch.zeros((), device=self.device)
        seen = 0
        steps = global_steps(loader)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        optimizer.zero_grad(set_to_none=True)
        # a rank whose share of the last global batch is empty still takes the step (DDP reduces the gradients of
        # every rank), on a blank image that counts for nothing
        blanks = itertools.repeat(self._blank_batch(), steps - len(loader))
        for step, (images, targets) in enumerate(itertools.chain(loader, blanks)):
            counted = step < len(loader)
            images = images.to(self.device, non_blocking=True)
            targets = targets.to(self.device, non_blocking=True)
            with autocast(self.device):
                loss_sum, loss_weight = self._loss_sum(model(images).float(), targets)
            if not counted:
                loss_sum, loss_weight = loss_sum * 0.0, loss_weight * 0.0
            step_weight = loss_weight.detach().clone()
            if self.rank.world > 1:  # DDP averages the ranks' gradients: scale each to its share of the whole
                torch.distributed.all_reduce(step_weight)
            loss = loss_sum * self.rank.world / step_weight
            self.scaler.scale(loss / config.grad_accum).backward()
            if (step + 1) % config.grad_accum == 0 or step + 1 == steps:
                self.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, config.clip_grad)
                self.scaler.step(optimizer)
                self.scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            total += loss_sum.detach()
            weight += loss_weight.detach()
            seen += len(targets) * counted
            tracker.advance(len(targets) * counted)
            if tracker.task is not None and (step + 1) % config.log_every == 0:  # .item() waits for the device
                mean = total.item() / max(weight.item(), 1e-12)
                tracker.update(description=f"epoch {epoch + 1} ({stage}) loss {mean:.3f}")
        tracker.finish(remove=True)
        if self.rank.world > 1:  # every rank's loss in the mean
            torch.distributed.all_reduce(total)
            torch.distributed.all_reduce(weight)
        return float(total) / max(float(weight), 1e-12), seen / (time.perf_counter() - started)

    def run(self) -> TrainResult:
        """Train, keep the best epoch, apply WiSE-FT, score on test, save; under torchrun, leave the process
        group at the end (its threads left running abort the process at exit, now and then)."""
        try:
            return self._run()
        finally:
            if self.rank.world > 1 and torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()

    def _run(self) -> TrainResult:
        config = self.config
        self._build()
        splits = self.data.splits
        zero_shot = self._head_state()
        history: list[dict] = []
        best, best_state = BestEpoch(), None
        start_epoch_number, state = 0, None
        if config.resume and self.resume_file.exists():
            state = self._read_resume()
            self.clip.load_state_dict(state["clip"])
            self.classifier.load_state_dict(state["classifier"])
            zero_shot, history, start_epoch_number = state["zero_shot"], state["history"], state["epoch"] + 1
            best = BestEpoch(**state["best"])
            best_state = self._load_best(best)
            log.info("resuming after epoch %d", start_epoch_number)
        elif config.resume:
            log.warning("%s: nothing to resume; starting from the beginning", self.resume_file)

        epoch = 0
        for stage, epochs, lr, frozen in config.stages():
            params = self._trainable(frozen)
            model = self._wrapped()
            loader = make_loader(splits["train"], config, self.device, train=True, world=self.rank.world,
                                 classes=len(self.classes), rank=self.rank.rank)
            steps = epochs * math.ceil(global_steps(loader) / config.grad_accum)
            optimizer, scheduler = self._optimizer(params, lr, steps)
            if state is not None and epoch < start_epoch_number < epoch + epochs:  # resume inside this stage
                optimizer.load_state_dict(state["optimizer"])
                scheduler.load_state_dict(state["scheduler"])
            for _ in range(epochs):
                if epoch < start_epoch_number:
                    epoch += 1
                    continue
                train_loss, speed = self._train_epoch(epoch, stage, model, loader, optimizer, scheduler)
                current = self._head_state()
                report = self.evaluate(splits["val"]) if len(splits["val"]) else None
                row = {"epoch": epoch + 1, "stage": stage, "train_loss": train_loss, "train_images_per_s": speed,
                       "val": report.to_dict() if report else None}
                history.append(row)
                if best.offer(epoch + 1, report, train_loss):
                    best_state = current
                    self._save(current, history, zero_shot=zero_shot)
                if self.on_epoch and self.rank.leads:
                    self.on_epoch(row, report)
                self._save_resume(epoch, optimizer, scheduler, zero_shot, history, best)
                epoch += 1
        return self._finish(zero_shot, best_state, history)

    def _read_resume(self) -> dict:
        """The saved training state: plain tensors and containers only (``weights_only``), so a planted
        file cannot run code."""
        try:
            return torch.load(self.resume_file, map_location=self.device, weights_only=True)
        except Exception as exc:  # torch raises UnpicklingError, RuntimeError or EOFError by damage
            reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
            raise HighlighterError(f"{self.resume_file}: not a resume state of `highlight train` ({reason}); "
                                   "delete it to start over") from None

    def _load_best(self, best: BestEpoch) -> dict[str, torch.Tensor] | None:
        if best.epoch < 0 or not (self.out / "model.safetensors").exists():
            return None
        from safetensors.torch import load_file

        saved = load_file(str(self.out / "model.safetensors"), device=str(self.device))
        return {k: saved[k] for k in self.classifier.state_dict()}

    def _finish(self, zero_shot, best_state, history) -> TrainResult:
        splits = self.data.splits

        def score_on_val(alpha: float) -> float:
            self.classifier.load_state_dict(wise_interpolate(zero_shot, best_state, alpha))
            return self.evaluate(splits["val"], f"WiSE-FT alpha {alpha}").macro_f1

        alpha, sweep = choose_wise_alpha(self.config.wise_alpha, len(splits["val"]) > 0, score_on_val)
        final = wise_interpolate(zero_shot, best_state, alpha)
        self.classifier.load_state_dict(final)
        test = self.evaluate(splits["test"], "test") if len(splits["test"]) else None
        result = TrainResult(self.out, history, alpha, sweep, test)
        fusion = self._fit_fusion()
        self.spotting_head = self._fit_spotting_head()
        self._save(final, history, zero_shot=zero_shot, result=result, fusion=fusion, head=self.spotting_head)
        if self.rank.leads:
            self.resume_file.unlink(missing_ok=True)
        return result

    def _fit_fusion(self):
        """The audio fusion over the final weights (rank 0, with ``fusion`` set), or None."""
        if not (self.config.fusion and self.rank.leads):
            return None
        from highlighter.training.fusion import fit_on_games

        splits = {split: summary["game_list"] for split, summary in self.data_summary.items()}
        return fit_on_games(self.classifier, splits, self.label_map, self.config, self.video, self.audio,
                            self.smoother, self.device, self.progress)

    def _fit_spotting_head(self):
        """The temporal spotting head over the final weights (rank 0, with ``spotting_head`` set), or None."""
        if not (self.config.spotting_head and self.rank.leads):
            return None
        from highlighter.training.spotting_head import fit_on_games

        splits = {split: summary["game_list"] for split, summary in self.data_summary.items()}
        return fit_on_games(self.classifier, splits, self.label_map, self.config, self.video, self.device,
                            self.progress)

    def _save(self, state, history, zero_shot, result: TrainResult | None = None, fusion=None, head=None) -> None:
        if not self.rank.leads:
            return
        fusion_tensors, fusion_entry = fusion.to_checkpoint() if fusion is not None else ({}, None)
        head_tensors, head_entry = head.to_checkpoint() if head is not None else ({}, None)
        spec = self.classifier.spec
        spec.extra = {
            "label_map": {"name": self.label_map.name, "sources": self.label_map.sources},
            "training": asdict(self.config),
            "video": asdict(self.video),
            "data": self.data_summary,
            "metrics": {"history": history,
                        "wise_ft": {"alpha": result.wise_alpha, "sweep": result.wise_sweep} if result else None,
                        "test": result.test.to_dict() if result and result.test else None},
            "complete": result is not None,
            **({"fusion": fusion_entry} if fusion_entry else {}),
            **({"spotting_head": head_entry} if head_entry else {}),
        }
        spec.trained_on = self.trained_on
        save_checkpoint(self.out, self.classifier,
                        extra_tensors={**{f"zero_shot.{k}": v for k, v in zero_shot.items()}, **fusion_tensors,
                                       **{k: torch.from_numpy(v) for k, v in head_tensors.items()}},
                        extra_files={"metrics.json": spec.extra["metrics"]}, weights=state)

    def _save_resume(self, epoch, optimizer, scheduler, zero_shot, history, best: BestEpoch) -> None:
        if not self.rank.leads:
            return
        state = {"epoch": epoch, "clip": self.clip.state_dict(), "classifier": self.classifier.state_dict(),
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "zero_shot": zero_shot, "history": history, "best": best.to_dict()}
        with atomic_write(self.resume_file, "wb") as handle:
            torch.save(state, handle)
