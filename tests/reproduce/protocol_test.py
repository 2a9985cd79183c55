"""Tests of disent_bias.reproduce.protocol: the config parsed once."""

import pytest

from disent_bias import reproduce
from disent_bias.configs import reproduce as reproduce_configs
from disent_bias.reproduce import grid
from disent_bias.reproduce import units
from disent_bias.utils import errors


@pytest.mark.parametrize('name', ['smoke', 'eps_sweep'])
def test_the_protocol_holds_every_cell_with_its_train_config(name, smoke,
                                                             eps_sweep):
  config = {'smoke': smoke, 'eps_sweep': eps_sweep}[name]()
  protocol = reproduce.parse(config)
  assert list(protocol.cells) == reproduce.expand_grid(config)
  for cell in protocol.cells:
    assert (protocol.train_configs[cell].to_dict()
            == reproduce.cell_config(config, cell).to_dict())
  assert protocol.sweep == reproduce.sweep_axis(config)
  assert protocol.num_seeds == config.num_seeds
  assert protocol.label('beta_vae') == 'beta-VAE'
  assert protocol.label('dci.disentanglement') == 'DCI disentanglement'


def test_a_cells_train_config_is_handed_out_as_a_copy(smoke):
  protocol = reproduce.parse(smoke())
  cell = protocol.cells[0]
  copy = protocol.train_config(cell)
  copy.train.num_steps = 12345
  assert protocol.train_configs[cell].train.num_steps != 12345


def test_a_bad_cell_is_refused_while_parsing(smoke):
  with pytest.raises(errors.InvalidInputError,
                     match='cell nope on toy_bumps/original'):
    reproduce.parse(smoke(models=('beta_vae', 'nope')))


class _Counted:
  """Wraps ``fn``, counting its calls."""

  def __init__(self, fn):
    self.fn, self.calls = fn, 0

  def __call__(self, *args, **kwargs):
    self.calls += 1
    return self.fn(*args, **kwargs)


@pytest.fixture
def counted(monkeypatch):
  """``grid.cell_config`` and ``grid.sweep_axis``, counted."""
  counters = {name: _Counted(getattr(grid, name))
              for name in ('cell_config', 'sweep_axis')}
  for name, counter in counters.items():
    monkeypatch.setattr(grid, name, counter)
  return counters


def test_a_reproduction_derives_each_cell_and_the_axis_once(
    tmp_path, eps_sweep, fake_train, counted):
  config = eps_sweep()
  num_cells = len(reproduce.parse(config).cells)
  counted['cell_config'].calls = counted['sweep_axis'].calls = 0
  reproduce.reproduce(config, str(tmp_path / 'a'), train_fn=fake_train(),
                      shard=reproduce.Shard(0, 2))
  reproduce.reproduce(config, str(tmp_path / 'a'), train_fn=fake_train())
  assert counted['cell_config'].calls == 2 * num_cells
  assert counted['sweep_axis'].calls == 2


def test_planning_units_derives_each_cell_once(counted):
  protocol = reproduce.parse(reproduce_configs.get_config('paper_core'))
  assert counted['cell_config'].calls == len(protocol.cells)
  ledger = units.merged_ledger(protocol, None)
  units.accept_unit(protocol, ledger, units.plan_units(protocol)[0])
  assert counted['cell_config'].calls == len(protocol.cells)
  assert counted['sweep_axis'].calls == 1
