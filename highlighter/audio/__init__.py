"""Match audio as a cue: decode it, measure its loudness per second and describe it at each sample time."""
