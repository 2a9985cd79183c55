"""One seed's score record: its scores, counts and timings, kept apart.

``evaluate_representation`` and ``score_sample`` return a ``ScoreRecord``;
``results.json`` and ``eval.json`` keep its ``to_json`` under each
``per_seed`` record's ``metrics``, and every reader (summaries, the
reproduction's records, ``aggregate``) parses it back with ``from_json``,
which also reads the flat layout written before the record (``from_flat``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from disent_bias.utils import logging_utils

# The counts of a score run: the array metrics' sample sizes, the points
# drawn for every metric and the distinct ones encoded.
COUNTS = ('num_train', 'num_test', 'num_drawn', 'num_encoded')
# Seconds of one stage (``'encode'`` or a metric name): wall time, process CPU
# time (all threads), and the part inside scikit-learn fits / predictions.
TIMING_KINDS = ('wall_s', 'cpu_s', 'sklearn_s')
# The flat layout's timing prefixes ('time_s.mig', ...), by timing kind.
_FLAT_TIMINGS = {'time_s': 'wall_s', 'cpu_s': 'cpu_s', 'sklearn_s': 'sklearn_s'}


@dataclasses.dataclass(frozen=True)
class ScoreRecord:
  """The scores of one representation and how they were computed.

  Attributes:
    seed: the evaluation seed every draw and classifier derives from (None
      when unknown).
    names: the metrics scored, in order.
    scores: ``'<metric>'`` or ``'<metric>.<key>'`` -> score.
    counts: ``COUNTS`` entries of the run (those known).
    timings: stage (``'encode'`` or a metric name) -> ``TIMING_KINDS`` entry
      -> seconds (those measured).
  """
  seed: int | None = None
  names: tuple[str, ...] = ()
  scores: Mapping[str, float] = dataclasses.field(default_factory=dict)
  counts: Mapping[str, int] = dataclasses.field(default_factory=dict)
  timings: Mapping[str, Mapping[str, float]] = dataclasses.field(
      default_factory=dict)

  def merge(self, other: ScoreRecord) -> ScoreRecord:
    """This record with ``other``'s metrics, scores, counts and timings
    added (``other``'s win on a clash): metrics scored in two passes."""
    timings = {stage: dict(kinds) for stage, kinds in self.timings.items()}
    for stage, kinds in other.timings.items():
      timings.setdefault(stage, {}).update(kinds)
    names = self.names + tuple(n for n in other.names if n not in self.names)
    return ScoreRecord(self.seed if other.seed is None else other.seed, names,
                       {**self.scores, **other.scores},
                       {**self.counts, **other.counts}, timings)

  def to_json(self) -> dict[str, Any]:
    """Plain Python: ``{'seed', 'names', 'scores', 'counts', 'timings'}``."""
    return logging_utils.to_jsonable({
        'seed': self.seed, 'names': list(self.names),
        'scores': dict(self.scores), 'counts': dict(self.counts),
        'timings': {k: dict(v) for k, v in self.timings.items()}})

  @classmethod
  def from_json(cls, data: Mapping[str, Any]) -> ScoreRecord:
    """Reads ``to_json``'s dict, or the flat layout (``from_flat``)."""
    if 'scores' not in data:
      return from_flat(data)
    return cls(data.get('seed', None), tuple(data.get('names', ())),
               dict(data['scores']), dict(data.get('counts', {})),
               {k: dict(v) for k, v in data.get('timings', {}).items()})


def from_flat(flat: Mapping[str, Any]) -> ScoreRecord:
  """A record of the flat dict written before ``ScoreRecord``.

  That layout mixed everything in one dict: scores, ``seed``, ``metrics``
  (the names), the ``COUNTS`` and timings as ``'<kind>.<stage>'`` keys
  (``time_s.mig``, ``cpu_s.encode``, ``sklearn_s.dci``). Its non-number
  entries other than the names were never scores and are dropped.
  """
  scores, counts, timings = {}, {}, {}
  for key, value in flat.items():
    kind, _, stage = key.partition('.')
    if key in ('seed', 'metrics'):
      continue
    if key in COUNTS:
      counts[key] = value
    elif kind in _FLAT_TIMINGS and stage:
      timings.setdefault(stage, {})[_FLAT_TIMINGS[kind]] = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
      scores[key] = value
  return ScoreRecord(flat.get('seed', None), tuple(flat.get('metrics', ())),
                     scores, counts, timings)


__all__ = ['ScoreRecord', 'from_flat', 'COUNTS', 'TIMING_KINDS']
