"""int8 scoring on CPUs without native bf16: the fp32 checkpoint's scoring graph exported to ONNX, its matrix
products quantised to int8, cached, and run by ONNX Runtime (the ``int8`` extra).

The fp32 checkpoint stays the source. Modules, in the order a first run uses them: :mod:`.choice` (whether
``auto`` takes int8 here), :mod:`.cache` (the cached int8 model, built on first use), :mod:`.graph` and
:mod:`.export` (the graph and its ONNX export: PyTorch, at build time only), :mod:`.quantise` (ONNX Runtime's
quantiser), :mod:`.scorer` (the scorer, needing neither PyTorch nor open_clip). Importing this package imports
nothing heavy.
"""
