"""The temporal spotting head: a small learned sequence model over a half's per-sample image embeddings that
places each event on its sample (and sub-sample offset), in place of the hand smoother where a checkpoint has
one. ``head`` holds the model and its checkpoint block, ``peaks`` its windowed NumPy inference and peak picking
(no PyTorch, so the Ray engine's driver runs it), ``fit`` its training on cached embeddings, ``games`` the
embeddings of a training run's games."""
