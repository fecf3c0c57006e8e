"""The limits every reader holds a package to, so a hostile file costs bounded time and memory.

A limit is a promise to users as much as a guard: a package within them is read by every
crossform of the major, and one beyond them is refused by name (LimitExceededError) before
its content is trusted. Formats with limits of their own (PMML's nesting, ONNX's 2 GiB
protobuf ceiling) keep those beside their reader.
"""

from __future__ import annotations

MAX_FILE_BYTES = 2 << 30  # 2 GiB, per file
MAX_FILES = 10_000  # files in a directory package
MAX_TREES = 2**17  # trees of one ensemble; building each tree costs ~0.3 ms, the worst file reads in under a minute
MAX_NODES = 2**31 - 1  # nodes over all trees of a model: node indices stay int32 in every format and runtime
