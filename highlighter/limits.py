"""Bounds on what a file from elsewhere (an events file, a checkpoint, SoccerNet labels) may ask of us.

Every number here is far beyond any real file, and each one caps the time or memory a hostile file can make a
command spend: the readers reject values outside them with a one-line error.
"""

#: the longest media time a file may name: ten days, longer than any match recording
MAX_MEDIA_S = 10 * 24 * 3600.0
#: the largest JSON file read whole (events files of 100k events are about 15 MB)
MAX_JSON_BYTES = 256 << 20
#: the largest checkpoint metadata (highlighter.json holds names, prompts, settings and metrics: kilobytes)
MAX_CHECKPOINT_META_BYTES = 16 << 20
#: the largest safetensors header (names, shapes and offsets of the tensors: kilobytes for a ViT-bigG)
MAX_WEIGHTS_HEADER_BYTES = 16 << 20
#: the most classes a checkpoint may have (SoccerNet-v2 has 17 labels)
MAX_CLASSES = 1000
#: model input sizes, in pixels a side (open_clip's largest towers take 518)
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 8, 2048
#: image tower shapes: transformer or ResNet stage depth, channel width and embedding dimension
MAX_LAYERS, MAX_WIDTH = 256, 16384
