"""Where the repository's own files are, whatever directory a test sits in."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO / "conformance"
