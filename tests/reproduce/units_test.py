"""Tests of disent_bias.reproduce.units: sizing, order and the ledger."""

import pytest

from disent_bias.configs import reproduce as reproduce_configs
from disent_bias.reproduce import grid
from disent_bias.reproduce import units
from disent_bias.reproduce.protocol import parse


def test_split_seeds_covers_every_seed_once_in_near_equal_blocks():
  for num_seeds in range(1, 12):
    for block in range(1, num_seeds + 1):
      parts = units.split_seeds(num_seeds, block)
      seeds = [f + i for f, c in parts for i in range(c)]
      assert seeds == list(range(num_seeds))
      counts = [c for _, c in parts]
      assert max(counts) <= block and max(counts) - min(counts) <= 1


def test_seed_rate_interpolates_between_measured_counts():
  rates = {'1': 100.0, '10': 1000.0}
  assert units.seed_rate(rates, 1) == 100.0
  assert units.seed_rate(rates, 4) == pytest.approx(400.0)
  assert units.seed_rate(rates, 30) == 1000.0
  with pytest.raises(ValueError, match='seed_steps_per_second'):
    units.seed_rate({}, 2)


def test_paper_core_units_fit_one_job_at_the_measured_rate():
  config = reproduce_configs.get_config('paper_core')
  protocol = parse(config)
  plan = units.plan_units(protocol)
  cells = protocol.cells
  assert len(cells) == 12
  for cell in cells:
    mine = [u for u in plan if u.cell == cell]
    assert [s for u in mine for s in u.seed_indices] == list(range(5))
    for u in mine:
      assert units.estimate_seconds(protocol, cell, u.count) <= (
          config.job.unit_seconds)
  # At the H200 rates a whole 5-seed cell is one unit.
  assert [u.count for u in plan] == [5] * len(cells)


def test_smaller_units_are_taken_block_major():
  config = reproduce_configs.get_config('paper_core')
  config.job.unit_seconds = 300.0
  protocol = parse(config)
  plan = units.plan_units(protocol)
  cells = protocol.cells
  assert [u.count for u in plan if u.cell == cells[0]] == [2, 2, 1]
  # Every cell's first block comes before any second block.
  assert [u.first for u in plan[:len(cells)]] == [0] * len(cells)
  assert len({u.cell for u in plan[:len(cells)]}) == len(cells)


def test_a_cell_that_cannot_fit_is_refused_in_one_line():
  config = reproduce_configs.get_config('paper_core')
  config.job.unit_seconds = 100.0
  with pytest.raises(ValueError, match='job.unit_seconds=100'):
    units.plan_units(parse(config))


def test_paper_presets_run_long_calls_and_defer_dci():
  for preset in ('paper', 'paper_core'):
    config = reproduce_configs.get_config(preset)
    protocol = parse(config)
    for cell in protocol.cells:
      train_config = protocol.train_configs[cell]
      assert train_config.train.steps_per_call >= 500
      assert train_config.log_every_steps == 10_000
      assert train_config.eval_every_steps == train_config.train.num_steps
      assert 'dci' in train_config.metrics.names
      unit = units.cell_units(protocol, cell)[0]
      assert tuple(units.unit_train_config(protocol, unit).metrics.names) == ()
    assert 'dci' not in config.job.accelerator_metrics


def test_ledger_keeps_its_units_when_the_plan_changes():
  config = reproduce_configs.get_config('paper_core')
  ledger = units.merged_ledger(parse(config), None)
  first = next(iter(ledger['units']))
  ledger['units'][first]['state'] = units.DONE
  config.job.seed_steps_per_second = {'1': 1e6}  # Now one unit per cell.
  merged = units.merged_ledger(parse(config), ledger)
  assert merged['units'] == ledger['units']
  assert first not in [u.id for u in units.pending_units(merged)]
  config.name = 'other'
  with pytest.raises(ValueError, match='protocol'):
    units.merged_ledger(parse(config), ledger)


def test_unit_names_round_trip():
  unit = units.Unit(grid.Cell('dsprites', 'noise', 'pcl'), 2, 3)
  assert units.unit_of_id(unit.id) == unit
  for bad in ('dsprites/noise/pcl', 'a/b/c/seeds_3-1', 'a/b/c/seeds_x'):
    with pytest.raises(ValueError, match='not a unit name'):
      units.unit_of_id(bad)


def test_a_unit_planned_otherwise_replaces_the_pending_ones_it_overlaps():
  config = reproduce_configs.get_config('paper_core')
  ledger = units.merged_ledger(parse(config), None)
  cell = grid.Cell('dsprites', 'original', 'beta_vae')
  accepted = units.accept_unit(parse(config), ledger, units.Unit(cell, 0, 2))
  mine = [units.unit_of_entry(e) for e in accepted['units'].values()
          if grid.Cell(**e['cell']) == cell]
  assert [(u.first, u.count) for u in mine] == [(0, 2), (2, 3)]
  assert len(accepted['units']) == len(ledger['units']) + 1
  # The other cells keep their units, in their order.
  others = [k for k in accepted['units'] if not k.startswith(
      'dsprites/original/beta_vae')]
  assert others == [k for k in ledger['units'] if not k.startswith(
      'dsprites/original/beta_vae')]
  accepted['units'][units.Unit(cell, 0, 2).id]['state'] = units.DONE
  with pytest.raises(ValueError, match='overlaps'):
    units.accept_unit(parse(config), accepted, units.Unit(cell, 1, 2))
  with pytest.raises(ValueError, match='not part of the protocol'):
    units.accept_unit(parse(config), accepted, units.Unit(cell, 4, 3))
