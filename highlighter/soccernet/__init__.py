"""Everything SoccerNet: its file names and formats (Labels-v2.json, results_spotting.json, Labels-v3.json
with Frames-v3.zip), game folders and their half videos, and trees of games paired for evaluation.

- ``files``: the action-spotting JSON files (labels, predictions), one-line errors for malformed ones;
- ``games``: game folders, their half videos, and the v2/v3 games under a data root;
- ``v3``: the action and replay frames of a v3 game, linked by the JSON, read from the zip;
- ``trees``: ground truth and predictions by game from files, trees or zips, and their pairing.
"""
