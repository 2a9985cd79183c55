"""JSON files of a reproduction: atomic writes and configs as JSON."""

from __future__ import annotations

import json
from typing import Any

import ml_collections

from disent_bias.utils import logging_utils
from disent_bias.utils import workdir as workdir_lib


def write_json(path: str, value: Any) -> None:
  """Writes JSON atomically (a killed write leaves the old file or none)."""
  workdir_lib.write_json(path, logging_utils.to_jsonable(value))


def config_json(config: ml_collections.ConfigDict) -> dict:
  """A config as the plain JSON value written to (and compared with) disk."""
  return json.loads(config.to_json_best_effort())
