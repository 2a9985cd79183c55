"""Loading a trained run back from its workdir (``restore_run``).

The stored ``config.json`` (``configuration.stored_config``) rebuilds the
setup; the newest checkpoint that verifies (or the one asked for) gives the
parameters of every seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ml_collections

from disent_bias import data as data_lib
from disent_bias.models import networks
from disent_bias.training import checkpoint
from disent_bias.training import configuration
from disent_bias.training import runner as runner_lib
from disent_bias.training import setup as setup_lib
from disent_bias.training import step as step_lib
from disent_bias.utils import errors
from disent_bias.utils import workdir as workdir_lib


@dataclasses.dataclass(frozen=True)
class Restored:
  """A trained run loaded from its workdir (``restore_run``)."""
  step: int
  config: ml_collections.ConfigDict
  model: networks.VAE
  params: Any  # Leading seed axis of size config.train.num_seeds.
  dataset: data_lib.GroundTruthData


def restore(workdir: str, step: int | None = None, *,
            dataset: data_lib.GroundTruthData | None = None
            ) -> tuple[ml_collections.ConfigDict, networks.VAE, Any,
                       data_lib.GroundTruthData]:
  """Loads a trained run: ``restore_run`` without the step."""
  restored = restore_run(workdir, step, dataset=dataset)
  return (restored.config, restored.model, restored.params,
          restored.dataset)


def restore_run(workdir: str, step: int | None = None, *,
                dataset: data_lib.GroundTruthData | None = None) -> Restored:
  """Loads a trained run and says which checkpoint step it is.

  Args:
    workdir: a ``train_and_evaluate`` workdir.
    step: checkpoint step; the newest that verifies when None.
    dataset: the dataset object if the run was given one explicitly.

  Returns:
    A ``Restored``: the step loaded, config, model, ``params`` with a leading
    seed axis of size ``config.train.num_seeds`` (``runner.select_seed``
    picks one), and the dataset.

  Raises:
    FileNotFoundError: no such directory, no config.json, no checkpoint, or
      none at ``step`` (the message lists the steps on disk).
    workdir.WorkdirKindError: ``workdir`` holds no training run.
    checkpoint.DamagedCheckpointError: the checkpoint at ``step`` is damaged.
  """
  workdir_lib.check_kind(workdir, workdir_lib.TRAINING, must_hold=True)
  with errors.user_input():
    config = configuration.stored_config(workdir)
  mngr = checkpoint.manager(workdir, read_only=True)
  steps = mngr.all_steps()
  if not steps:
    raise FileNotFoundError(f'no checkpoint in {workdir}/checkpoints')
  if step is not None and step not in steps:
    raise FileNotFoundError(
        f'no checkpoint at step {step} in {workdir}/checkpoints; steps on '
        f'disk: {", ".join(map(str, sorted(steps)))}')
  if dataset is None:
    with errors.user_input():
      dataset = data_lib.load_config(config.data)
  run = runner_lib.Run(setup_lib.build(config, dataset), dataset,
                       runner_lib.make_mesh())
  keys = run.seed_keys(config.seed)
  abstract = step_lib.to_tree(run.abstract_state(keys))
  if step is None:
    step, tree = checkpoint.restore_newest_good(mngr, abstract)
    if step is None:
      raise checkpoint.DamagedCheckpointError(
          f'no checkpoint in {workdir}/checkpoints restores and verifies '
          '(see the warnings above)')
  else:
    tree = checkpoint.restore(mngr, step, abstract)
  mngr.close()
  return Restored(step=int(step), config=config, model=run.model,
                  params=tree['params'], dataset=dataset)


__all__ = ['Restored', 'restore', 'restore_run']
