"""The names each command's choice options accept. This module imports nothing heavy, so the CLI can
build its options (and answer `highlight --help`) without loading PyTorch."""

#: events file formats of `highlight tag`
FORMATS = ("json", "csv", "soccernet")
#: image formats of `highlight frames`
IMAGE_FORMATS = ("jpg", "png")
#: training modes: linear probe, full fine-tune, probe then fine-tune
MODES = ("probe", "finetune", "lp-ft")
#: training losses: cross-entropy, FLYP-style contrastive
LOSSES = ("ce", "contrastive")
#: ways to balance rare classes in training
BALANCING = ("sampler", "loss", "none")
#: numeric precision of inference (`highlight tag`, `highlight eval-frames`); auto picks per device
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
