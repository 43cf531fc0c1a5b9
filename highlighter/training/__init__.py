"""Fine-tuning open_clip into the highlight classifier, in parts that read on their own: ``datasets`` (images of
the split games, loaders, class balance), ``trainer`` (the epochs: losses, optimizer, schedule, mixed precision,
data parallelism, resume, checkpoints), ``wise`` (which weights ship: the best epoch, then WiSE-FT) and ``fusion``
(the audio fusion fitted on the games' audio after the image model)."""
