"""How good the model is: SoccerNet action-spotting average-mAP of events (``spotting``, over games gathered by
``trees``), per-image classification scores of a checkpoint (``metrics``, ``frames``), and the smoother settings
that maximise average-mAP on validation games (``tuning``)."""
