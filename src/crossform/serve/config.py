"""What a server is configured with, and how it reaches uvicorn's worker processes.

With ``--workers N`` uvicorn starts N processes that each build the app from an import string,
so the configuration travels as JSON in one environment variable (``app_from_environment``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

from ..deployer import HOME
from .follow import DEFAULT_POLL_INTERVAL
from .inputs import Limits
from .models import DEFAULT_MAX_BYTES

CONFIG_VARIABLE = "CROSSFORM_SERVE_CONFIG"
DEFAULT_SHADOW_LOG = f"{HOME}/shadows.sqlite"


@dataclass(frozen=True)
class ServeConfig:
    store: str
    registry: str
    limits: Limits = field(default_factory=Limits)
    poll_interval: float = DEFAULT_POLL_INTERVAL
    cache_bytes: int = DEFAULT_MAX_BYTES
    shadow_log: str = DEFAULT_SHADOW_LOG
    tags: tuple = ()  # followed from startup; /readyz answers 200 once their models are warm

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        values = json.loads(text)
        values["limits"] = Limits(**values["limits"])
        values["tags"] = tuple(values["tags"])
        return cls(**values)


def to_environment(config: ServeConfig) -> None:
    os.environ[CONFIG_VARIABLE] = config.to_json()


def from_environment() -> ServeConfig:
    return ServeConfig.from_json(os.environ[CONFIG_VARIABLE])
