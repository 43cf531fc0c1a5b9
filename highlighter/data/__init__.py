"""Training data: SoccerNet-v2 video frames and v3 action/replay frames as labelled image records."""
