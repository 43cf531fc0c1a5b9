"""The model: the open_clip classifier and its checkpoints, the one preprocessing spec, batched inference, and
the device and precision it runs in."""
