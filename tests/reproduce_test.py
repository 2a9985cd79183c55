"""Tests of the reproduction driver and its protocols."""

import json
import os

import numpy as np
import pytest

from disent_bias import configuration
from disent_bias import reproduce
from disent_bias import train
from disent_bias.models import objectives
from experiments.configs import reproduce as reproduce_configs


def _fake_results(config, workdir, offset=0.0):
  """What train_and_evaluate writes, with scores that encode the cell."""
  seeds = [config.seed + s for s in range(config.train.num_seeds)]
  base = {'original': 0.5, 'perturbed': 0.1, 'noise': 0.45}[config.data.variant]
  per_seed = [{'mig': base + offset + 0.02 * s, 'dci.disentanglement': base,
               'time_s.mig': 0.1, 'seed': seed, 'metrics': ['mig', 'dci'],
               'num_train': 10, 'num_test': 5}
              for s, seed in enumerate(seeds)]
  results = {'model': config.model.name, 'dataset': config.data.name,
             'variant': config.data.variant, 'seeds': seeds,
             'num_steps': config.train.num_steps,
             'metrics': {'mig': 0.0, 'per_seed': per_seed},
             'timings': {'train_seconds': 1.0, 'total_seconds': 2.0}}
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'results.json'), 'w') as f:
    json.dump(results, f)
  return results


class _FakeTrain:
  """Records the cells it trains; optionally fails on one of them."""

  def __init__(self, fail_on=None):
    self.calls = []
    self.fail_on = fail_on

  def __call__(self, config, workdir):
    cell = (config.data.name, config.data.variant, config.model.name)
    if cell == self.fail_on:
      raise KeyboardInterrupt('killed')
    self.calls.append(cell)
    return _fake_results(config, workdir)


def _smoke(**changes):
  config = reproduce_configs.get_config('smoke')
  config.analysis.enabled = False
  for key, value in changes.items():
    config[key] = value
  return config


@pytest.mark.parametrize('preset', sorted(reproduce_configs.PRESETS) + [
    'quick,dci', 'smoke,dci'])
def test_every_preset_gives_valid_train_configs(preset):
  config = reproduce_configs.get_config(preset)
  cells = reproduce.expand_grid(config)
  subsets = config.dataset_models.to_dict()
  axis = reproduce.sweep_axis(config)
  unswept = len(axis['unswept_variants']) if axis else len(config.variants)
  swept = (len(config.variants) - unswept) * len(axis['values'] if axis
                                                  else ())
  assert len(cells) == (unswept + swept) * sum(
      len(subsets.get(d, config.models)) for d in config.datasets)
  for cell in cells:
    cfg = reproduce.cell_config(config, cell)
    configuration.validate_config(cfg)
    assert (cfg.data.name, cfg.data.variant, cfg.model.name) == (
        cell.dataset, cell.variant, cell.model)
    assert cfg.train.num_seeds == config.num_seeds
    assert set(configuration.resolve_hparams(cfg)) <= set(cfg.model.hparams)


def test_dci_option_and_images_protocol():
  config = reproduce_configs.get_config('quick,dci')
  assert 'dci.disentanglement' in config.table_metrics
  for cell in reproduce.expand_grid(config):
    assert 'dci' in reproduce.cell_config(config, cell).metrics.names
  images = reproduce_configs.get_config('images')
  cells = reproduce.expand_grid(images)
  assert len(cells) == 3 * 6 and images.num_seeds >= 5
  assert {c.dataset for c in cells} == {'shapes3d32'}
  sprites = reproduce_configs.get_config('images,sprites')
  assert len(reproduce.expand_grid(sprites)) == 2 * 3 * 6
  assert reproduce.cell_config(
      sprites, reproduce.Cell('dsprites32', 'original', 'beta_vae')
  ).model.recon == 'bernoulli'
  with pytest.raises(ValueError, match='use images,sprites'):
    reproduce_configs.get_config('quick,sprites')
  assert {'ae', 'beta_vae', 'slow_vae', 'pcl', 'ada_gvae'} <= {
      c.model for c in cells}
  cfg = reproduce.cell_config(
      images, reproduce.Cell('shapes3d32', 'perturbed', 'beta_vae'))
  assert cfg.model.architecture == 'mlp'
  assert tuple(cfg.metrics.names) == ('mig', 'dci')
  assert cfg.model.hparams.beta == (
      reproduce_configs.IMAGES_HPARAMS['beta_vae']['beta'])
  # Plain quick: every model of the zoo, DCI in every cell, one likelihood
  # scale for all, every model at the full length.
  plain = reproduce_configs.get_config('quick')
  cells = reproduce.expand_grid(plain)
  assert {c.model for c in cells} == set(objectives.OBJECTIVES)
  for cell in cells:
    cfg = reproduce.cell_config(plain, cell)
    assert 'dci' in cfg.metrics.names, cell
    assert cfg.model.recon_weight == 40.0, cell
    assert cfg.train.num_steps == 12_000, cell
    assert cell.model in plain.display, cell  # A table label for each row.


def test_unknown_preset_lists_valid_ones():
  with pytest.raises(ValueError,
                     match='dci, eps_dose, images, paper, quick, smoke'):
    reproduce_configs.get_config('fast')
  with pytest.raises(ValueError, match='choose one'):
    reproduce_configs.get_config('quick,paper')


def test_paper_protocol_is_the_spec_protocol():
  config = reproduce_configs.get_config('paper')
  assert config.num_seeds == 10
  assert tuple(config.datasets) == ('dsprites', 'shapes3d')
  assert tuple(config.variants) == ('original', 'perturbed', 'noise')
  assert tuple(config.models) == ('ae', 'beta_vae', 'factor_vae', 'beta_tcvae',
                                  'slow_vae', 'pcl', 'ada_gvae')
  cfg = reproduce.cell_config(
      config, reproduce.Cell('shapes3d', 'perturbed', 'beta_vae'))
  assert cfg.train.num_steps == 300_000
  assert cfg.train.batch_size == 64
  assert cfg.model.architecture == 'conv'
  assert cfg.optimizer.lr == 1e-4
  assert configuration.resolve_hparams(cfg) == {'beta': 32.0}  # SPEC section 1.


def test_quick_protocol_has_all_models_on_the_toy_tier_and_three_seeds():
  config = reproduce_configs.get_config('quick')
  assert config.num_seeds >= 3
  assert tuple(config.variants) == ('original', 'perturbed', 'noise')
  toy = [c for c in reproduce.expand_grid(config)
         if c.dataset == reproduce_configs.TOY_DATASET]
  assert {c.model for c in toy} == set(reproduce_configs.MODELS) | set(
      reproduce_configs.ZOO_EXTRA)
  assert len(toy) == 3 * (len(reproduce_configs.MODELS) + len(reproduce_configs.ZOO_EXTRA))
  for cell in toy:
    assert reproduce.cell_config(config, cell).model.architecture == 'mlp'


def test_grid_is_dataset_major_in_config_order():
  config = _smoke(datasets=('toy_bumps', 'synthetic_linear'),
                  models=('pcl', 'beta_vae'))
  cells = reproduce.expand_grid(config)
  assert [str(c) for c in cells[:3]] == [
      'pcl on toy_bumps/original', 'beta_vae on toy_bumps/original',
      'pcl on toy_bumps/perturbed']
  assert cells[-1].path == os.path.join('cells', 'synthetic_linear',
                                        'perturbed', 'beta_vae')


def test_dataset_models_restrict_a_dataset_to_some_models():
  config = _smoke(datasets=('toy_bumps', 'synthetic_linear'),
                  variants=('original',))
  config.dataset_models = {'synthetic_linear': ('pcl',)}
  assert [str(c) for c in reproduce.expand_grid(config)] == [
      'beta_vae on toy_bumps/original', 'pcl on toy_bumps/original',
      'pcl on synthetic_linear/original']
  config.dataset_models = {'synthetic_linear': ('ae',)}
  with pytest.raises(ValueError, match='dataset_models'):
    reproduce.expand_grid(config)


def test_empty_or_duplicated_axis_raises():
  with pytest.raises(ValueError, match='models is empty'):
    reproduce.expand_grid(_smoke(models=()))
  with pytest.raises(ValueError, match='duplicated variants'):
    reproduce.expand_grid(_smoke(variants=('original', 'original')))


def test_overrides_apply_in_order_and_typos_fail():
  config = _smoke()
  config.overrides = dict(train=dict(num_steps=7), optimizer=dict(lr=0.5))
  config.dataset_overrides = {'toy_bumps': dict(train=dict(num_steps=8))}
  config.model_overrides = {'pcl': dict(train=dict(num_steps=9))}
  config.pair_overrides = {'toy_bumps': {'pcl': dict(optimizer=dict(lr=0.25))}}
  pcl = reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise',
                                                     'pcl'))
  beta = reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise',
                                                      'beta_vae'))
  assert (pcl.train.num_steps, pcl.optimizer.lr) == (9, 0.25)
  assert (beta.train.num_steps, beta.optimizer.lr) == (8, 0.5)
  config.overrides = dict(train=dict(num_stepz=7))
  with pytest.raises(ValueError, match="'train.num_stepz'"):
    reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise', 'pcl'))


def test_seed_records_from_per_seed_lists_and_dicts():
  cell = reproduce.Cell('d', 'original', 'm')
  lists = {'seeds': [3, 4], 'metrics': {
      'mig': 0.5, 'mig_sd': 0.1, 'mig_per_seed': [0.4, 0.6], 'seed': 3.5,
      'seed_per_seed': [3, 4], 'time_s.mig_per_seed': [1, 1]}}
  dicts = {'seeds': [3, 4], 'metrics': {'per_seed': [
      {'mig': 0.4, 'metrics': ['mig'], 'seed': 3},
      {'mig': 0.6, 'metrics': ['mig'], 'seed': 4}]}}
  for results in (lists, dicts):
    records = reproduce.seed_records(results, cell, wall_seconds=2.0)
    assert [(r['seed'], r['scores']) for r in records] == [
        (3, {'mig': 0.4}), (4, {'mig': 0.6})]
    assert records[0]['timings']['cell_wall_seconds'] == 2.0
  single = {'seeds': [0], 'metrics': {'mig': 0.3}}
  assert reproduce.seed_records(single, cell)[0]['scores'] == {'mig': 0.3}
  with pytest.raises(ValueError, match='no per-seed values'):
    reproduce.seed_records({'seeds': [0, 1], 'metrics': {'mig': 0.3}}, cell)


def test_summarize_gives_mean_and_sample_sd():
  records = [{'model': 'm', 'dataset': 'd', 'variant': 'original', 'seed': s,
              'scores': {'mig': v}} for s, v in enumerate([0.1, 0.2, 0.6])]
  (row,) = reproduce.summarize(records)
  np.testing.assert_allclose(row['mean'], 0.3)
  # Sample sd: sqrt(((0.2)^2 + (0.1)^2 + (0.3)^2) / 2) = sqrt(0.07).
  np.testing.assert_allclose(row['sd'], np.sqrt(0.07))
  assert row['n'] == 3


def test_table_layout_matches_spec_table():
  summary = [dict(model='beta_vae', dataset='dsprites', variant=v,
                  metric='mig', mean=m, sd=0.01, n=3)
             for v, m in (('original', 0.23), ('perturbed', 0.07))]
  table = reproduce.format_table(
      summary, 'mig', models=('ae', 'beta_vae'), datasets=('dsprites',),
      variants=('original', 'perturbed', 'noise'),
      model_names={'beta_vae': 'beta-VAE'}, dataset_names={})
  assert table.splitlines() == [
      '| model | dsprites |',
      '|---|---|',
      '| ae | - / - / - |',
      '| beta-VAE | 0.23 (0.01) / 0.07 (0.01) / - |',
  ]


def test_driver_writes_outputs_and_skips_finished_cells(tmp_path):
  config = _smoke(models=('beta_vae', 'pcl'),
                  variants=('original', 'perturbed', 'noise'))
  fake = _FakeTrain()
  results = reproduce.reproduce(config, str(tmp_path), train_fn=fake)
  assert len(fake.calls) == 6
  for name in ('results.json', 'table.md', 'bars.png', 'config.json'):
    assert os.path.exists(tmp_path / name), name
  with open(tmp_path / 'results.json') as f:
    on_disk = json.load(f)
  assert on_disk['records'] == results['records']
  assert len(on_disk['records']) == 6 * config.num_seeds
  assert {r['seed'] for r in on_disk['records']} == {0, 1}
  assert all(set(r['scores']) == {'mig', 'dci.disentanglement'}
             for r in on_disk['records'])
  mig = {(s['model'], s['variant']): s for s in on_disk['summary']
         if s['metric'] == 'mig'}
  np.testing.assert_allclose(mig['pcl', 'perturbed']['mean'], 0.11)
  np.testing.assert_allclose(mig['pcl', 'perturbed']['sd'],
                             np.std([0.1, 0.12], ddof=1))
  table = (tmp_path / 'table.md').read_text()
  assert '| beta-VAE | 0.51 (0.01) / 0.11 (0.01) / 0.46 (0.01) |' in table

  again = _FakeTrain()
  rerun = reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == []
  assert rerun['records'] == results['records']


def test_killed_reproduction_continues_with_unfinished_cells(tmp_path):
  config = _smoke()
  killed = _FakeTrain(fail_on=('toy_bumps', 'perturbed', 'beta_vae'))
  with pytest.raises(KeyboardInterrupt):
    reproduce.reproduce(config, str(tmp_path), train_fn=killed)
  assert killed.calls == [('toy_bumps', 'original', 'beta_vae'),
                          ('toy_bumps', 'original', 'pcl')]
  resumed = _FakeTrain()
  results = reproduce.reproduce(config, str(tmp_path), train_fn=resumed)
  assert resumed.calls == [('toy_bumps', 'perturbed', 'beta_vae'),
                           ('toy_bumps', 'perturbed', 'pcl')]
  assert len(results['records']) == 4 * config.num_seeds


def test_changed_config_in_same_workdir_is_refused(tmp_path):
  reproduce.reproduce(_smoke(), str(tmp_path), train_fn=_FakeTrain())
  changed = _smoke()
  changed.overrides.train.num_steps = 11
  with pytest.raises(ValueError, match='different config'):
    reproduce.reproduce(changed, str(tmp_path), train_fn=_FakeTrain())


@pytest.mark.slow
@pytest.mark.usefixtures('fast_compiles')
def test_smoke_protocol_end_to_end(tmp_path, monkeypatch):
  config = reproduce_configs.get_config('smoke')
  results = reproduce.reproduce(config, str(tmp_path))
  num_cells = len(reproduce.expand_grid(config))
  assert len(results['records']) == num_cells * config.num_seeds
  for record in results['records']:
    assert 0.0 <= record['scores']['mig'] <= 1.0
    assert record['timings']['num_steps'] == config.overrides.train.num_steps
  for name in ('results.json', 'table.md', 'bars.png', 'analysis.png'):
    assert os.path.getsize(tmp_path / name) > 0, name
  for variant in config.variants:
    with open(tmp_path / 'analysis' / 'toy_bumps' / f'{variant}.json') as f:
      analysis = json.load(f)
    assert analysis['num_points'] == config.analysis.num_points
    assert 0.0 <= analysis['median_dto']
  table = (tmp_path / 'table.md').read_text()
  assert '| beta-VAE |' in table and '| PCL |' in table

  def must_not_train(*args, **kwargs):
    raise AssertionError('a finished cell was trained again')

  monkeypatch.setattr(train, 'train_and_evaluate', must_not_train)
  rerun = reproduce.reproduce(config, str(tmp_path))
  assert rerun['records'] == results['records']


@pytest.mark.parametrize('content', ['', '{"model": "beta_v', '{}'])
def test_torn_or_empty_cell_results_run_the_cell_again(tmp_path, caplog,
                                                       content):
  config = _smoke()
  first = reproduce.reproduce(config, str(tmp_path), train_fn=_FakeTrain())
  path = (tmp_path / 'cells' / 'toy_bumps' / 'perturbed' / 'pcl' /
          'results.json')
  path.write_text(content)
  again = _FakeTrain()
  with caplog.at_level('WARNING'):
    rerun = reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == [('toy_bumps', 'perturbed', 'pcl')]
  assert str(path) in caplog.text

  def scores(results):
    return [(r['model'], r['variant'], r['seed'], r['scores'])
            for r in results['records']]

  assert scores(rerun) == scores(first)


def test_refused_rerun_names_the_fields_and_writes_nothing(tmp_path):
  reproduce.reproduce(_smoke(), str(tmp_path), train_fn=_FakeTrain())
  before = (tmp_path / 'config.json').read_bytes()
  changed = _smoke()
  changed.overrides.train.num_steps = 11
  with pytest.raises(ValueError, match=r'different config for .*'
                     r'config.train.num_steps: \d+ -> 11'):
    reproduce.reproduce(changed, str(tmp_path), train_fn=_FakeTrain())
  assert (tmp_path / 'config.json').read_bytes() == before


def _eps_sweep(**changes):
  """The smoke grid with data.epsilon swept; the original variant unswept."""
  config = _smoke(**changes)
  config.sweep.field = 'data.epsilon'
  config.sweep.points = (0.05, 0.2)
  config.sweep.unswept_variants = ('original',)
  config.sweep.baseline = 0.0
  return config


def test_sweep_crosses_the_grid_with_its_own_workdir_per_value():
  config = _eps_sweep()
  cells = reproduce.expand_grid(config)
  assert [c.path for c in cells] == [
      os.path.join('cells', 'toy_bumps', 'original', 'beta_vae'),
      os.path.join('cells', 'toy_bumps', 'original', 'pcl'),
      os.path.join('cells', 'data.epsilon=0.05', 'toy_bumps', 'perturbed',
                   'beta_vae'),
      os.path.join('cells', 'data.epsilon=0.05', 'toy_bumps', 'perturbed',
                   'pcl'),
      os.path.join('cells', 'data.epsilon=0.2', 'toy_bumps', 'perturbed',
                   'beta_vae'),
      os.path.join('cells', 'data.epsilon=0.2', 'toy_bumps', 'perturbed',
                   'pcl')]
  epsilons = [reproduce.cell_config(config, c).data.epsilon for c in cells]
  assert epsilons == [None, None, 0.05, 0.05, 0.2, 0.2]
  config.sweep.field = 'data.epsilonn'
  with pytest.raises(ValueError, match="'data.epsilonn'"):
    reproduce.cell_config(config, reproduce.expand_grid(config)[-1])


def test_sweep_writes_a_table_and_plot_against_the_axis(tmp_path):
  config = _eps_sweep()

  def train_fn(cfg, workdir):  # MIG falls with eps: 0.5 - eps.
    results = _fake_results(cfg, workdir)
    eps = cfg.data.epsilon or 0.0
    for s, row in enumerate(results['metrics']['per_seed']):
      row['mig'] = 0.5 - eps + 0.02 * s
    with open(os.path.join(workdir, 'results.json'), 'w') as f:
      json.dump(results, f)
    return results

  results = reproduce.reproduce(config, str(tmp_path), train_fn=train_fn)
  assert os.path.getsize(tmp_path / 'sweep.png') > 0
  mig = {(s['model'], s['variant'], s['sweep_value']): s['mean']
         for s in results['summary'] if s['metric'] == 'mig'}
  np.testing.assert_allclose(mig['pcl', 'perturbed', 0.2], 0.31)
  np.testing.assert_allclose(mig['pcl', 'original', 0.0], 0.51)
  table = (tmp_path / 'table.md').read_text()
  assert '| toy bumps: model | variant | 0 | 0.05 | 0.2 |' in table
  assert ('| PCL | perturbed | 0.51 (0.01) | 0.46 (0.01) | 0.31 (0.01) |'
          in table)


def test_shards_cover_the_grid_once():
  cells = reproduce.expand_grid(_eps_sweep())
  parts = [reproduce.shard_cells(cells, reproduce.Shard(i, 4))
           for i in range(4)]
  assert sorted(map(str, sum(parts, []))) == sorted(map(str, cells))
  with pytest.raises(ValueError, match=r'\[0, 2\)'):
    reproduce.Shard(2, 2)


def test_two_shards_then_a_rerun_give_the_unsharded_table(tmp_path):
  config = _eps_sweep()
  whole = reproduce.reproduce(config, str(tmp_path / 'whole'),
                              train_fn=_FakeTrain())
  sharded = str(tmp_path / 'sharded')
  calls = []
  for index in (1, 0):  # Any order.
    fake = _FakeTrain()
    reproduce.reproduce(config, sharded, train_fn=fake,
                        shard=reproduce.Shard(index, 2))
    calls += fake.calls
    assert os.path.exists(os.path.join(sharded, 'shards', f'{index}_of_2.json'))
  assert len(calls) == len(reproduce.expand_grid(config))
  merge = _FakeTrain()
  merged = reproduce.reproduce(config, sharded, train_fn=merge)
  assert merge.calls == []
  assert merged['summary'] == whole['summary']
  assert ((tmp_path / 'sharded' / 'table.md').read_text()
          == (tmp_path / 'whole' / 'table.md').read_text())


@pytest.mark.slow
@pytest.mark.usefixtures('fast_compiles')
def test_images_protocol_smoke_with_mechanism_readouts(tmp_path):
  config = reproduce_configs.get_config('images')
  # The protocol's cells at a smoke size: four cells of shapes3d32, 2 seeds
  # (the per-dataset overrides of dsprites32 would train it for real).
  config.datasets = ('shapes3d32',)
  config.variants = ('original', 'perturbed')
  config.models = ('beta_vae', 'pcl')
  config.num_seeds = 2
  config.analysis.num_points = 8
  config.table_metrics = ('mig',)
  config.overrides.train.num_steps = 4
  config.overrides.train.steps_per_call = 2
  config.overrides.log_every_steps = 2
  config.overrides.eval_every_steps = 4
  config.overrides.checkpoint_every_steps = 4
  config.overrides.eval = {'num_summary_images': 8}
  config.overrides.metrics.names = ('mig',)
  config.overrides.metrics.num_train = 64
  config.overrides.metrics.num_test = 32
  results = reproduce.reproduce(config, str(tmp_path))
  assert len(results['records']) == 2 * 2 * 2
  for record in results['records']:
    scores = record['scores']
    assert 0.0 <= scores['mig'] <= 1.0
    assert np.isfinite(scores['mechanism.decoder_dto'])
    if record['model'] == 'beta_vae':
      assert scores['mechanism.polarized'] in (0.0, 1.0)
      assert 0 <= scores['mechanism.active_latents'] <= 3
    else:  # PCL has no posterior variance: no active-latent readouts.
      assert 'mechanism.polarized' not in scores
  table = (tmp_path / 'table.md').read_text()
  assert '## Mechanism (final eval point)' in table
  assert 'Shapes3D 32x32' in table
