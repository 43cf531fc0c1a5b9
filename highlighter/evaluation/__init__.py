"""How good the model is: SoccerNet action-spotting average-mAP of events (``spotting``), and per-image
classification scores of a checkpoint (``metrics``, ``frames``)."""
