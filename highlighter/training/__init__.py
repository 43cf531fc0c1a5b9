"""Fine-tuning open_clip into the highlight classifier, in three parts that read on their own:
``datasets`` (images of the split games, loaders, class balance), ``loop`` (the epochs: losses,
optimizer, schedule, mixed precision, data parallelism, resume, checkpoints) and ``selection`` (which
weights ship: the best epoch, then WiSE-FT)."""
