"""Tests of data.from_arrays: round trips, variants, metrics, config, errors."""

from ml_collections import ConfigDict
import numpy as np
import pytest

from disent_bias import data
from disent_bias import metrics
from disent_bias.data import export
from disent_bias.training import train
from tiny_run import tiny_config

pytestmark = pytest.mark.usefixtures('fast_compiles_module')

_NAMES = ('a', 'b')
_SIZES = (3, 5)


def _grid(dtype=np.float32):
  """(3, 5) grid of (6,) vectors that show both factors; rows shuffled."""
  space = data.StateSpace(_SIZES, _NAMES)
  factors = space.all_factors()
  images = np.zeros((len(factors), 6), np.float32)
  images[:, 0] = factors[:, 0] / 2
  images[:, 1] = factors[:, 1] / 4
  images[:, 2:] = np.random.default_rng(0).random((len(factors), 4)) * 0.1
  order = np.random.default_rng(1).permutation(len(factors))
  return images[order].astype(dtype), factors[order], images


def test_rows_in_any_order_give_the_row_major_grid():
  images, factors, ordered = _grid()
  ds = data.from_arrays(images, factors, _NAMES, _SIZES)
  assert (ds.factor_names, ds.factor_sizes) == (_NAMES, _SIZES)
  assert not ds.is_pure and not ds.binary
  np.testing.assert_array_equal(ds.render_index(np.arange(15)), ordered)
  np.testing.assert_array_equal(ds.render(factors), images)
  inferred = data.from_arrays(images, factors, _NAMES)
  assert inferred.factor_sizes == _SIZES


@pytest.mark.parametrize('suffix', ['npz', 'h5'])
def test_path_form_reads_the_generic_layout(tmp_path, suffix):
  images, factors, ordered = _grid()
  ds = data.from_arrays(images, factors, _NAMES, _SIZES)
  path = export.export(ds, tmp_path / f'mine.{suffix}')
  for loaded in (data.from_arrays(path),
                 data.load('arrays', source='file', path=path)):
    assert loaded.factor_names == _NAMES
    np.testing.assert_array_equal(loaded.render_index(np.arange(15)), ordered)


def test_variants_and_metrics_accept_it():
  images, factors, _ = _grid()
  ds = data.from_arrays(images, factors, _NAMES, _SIZES)
  for variant in ('perturbed', 'noise'):
    other = data.variants.apply_variant(ds, variant, 0.05)
    change = np.abs(other.render(factors) - ds.render(factors))
    assert 0 < change.max() <= 0.05 + 1e-6
  scores = metrics.evaluate_representation(
      ds, lambda x: np.asarray(x)[:, :2], ('mig',), seed=0, num_train=200,
      num_test=100).scores
  assert scores['mig'] > 0.9


def test_config_selects_it(tmp_path):
  images, factors, _ = _grid()
  path = export.export(data.from_arrays(images, factors, _NAMES, _SIZES),
                       tmp_path / 'mine.npz')
  section = ConfigDict(dict(name='arrays', variant='perturbed', epsilon=0.1,
                            source=None, path=path, data_dir=None))
  data.validate_config(section)
  ds = data.load_config(section)
  assert ds.variant == 'perturbed' and ds.factor_sizes == _SIZES


def test_a_run_trains_on_it(tmp_path):
  images, factors, _ = _grid()
  path = export.export(data.from_arrays(images, factors, _NAMES, _SIZES),
                       tmp_path / 'mine.h5')
  config = tiny_config()
  config.data.name = 'arrays'
  config.data.path = path
  config.metrics.names = ('mig',)
  results = train.train_and_evaluate(config, str(tmp_path / 'run'))
  assert np.isfinite(results['metrics']['mig'])


@pytest.mark.parametrize('change, error, match', [
    (dict(factors=lambda f: np.concatenate([f[:-1], f[:1]])), ValueError,
     'duplicated grid point'),
    (dict(factors=lambda f: f[:-1], images=lambda x: x[:-1]), ValueError,
     'incomplete grid: 1 of 15'),
    (dict(images=lambda x: (x * 100).astype(np.int32)), TypeError,
     'bool, uint8 or float'),
    (dict(images=lambda x: x + 1.0), ValueError, r'in \[0, 1\]'),
    (dict(images=lambda x: x[:, :, None]), ValueError, r'\(N, H, W, C\)'),
    (dict(images=lambda x: x[:-1]), ValueError, '14 images for 15'),
    (dict(factors=lambda f: f.astype(np.float32)), TypeError, 'integer'),
    (dict(factors=lambda f: f - 1), ValueError, '>= 0'),
    (dict(names=('a',)), ValueError, '1 factor_names'),
    (dict(names=('a', 'a')), ValueError, 'distinct'),
    (dict(sizes=(3, 5, 2)), ValueError, '3 factor_sizes'),
    (dict(sizes=(3, 4)), ValueError, "'b' has class 4"),
])
def test_clear_errors(change, error, match):
  images, factors, _ = _grid()
  images = change.get('images', lambda x: x)(images)
  factors = change.get('factors', lambda f: f)(factors)
  with pytest.raises(error, match=match):
    data.from_arrays(images, factors, change.get('names', _NAMES),
                     change.get('sizes', _SIZES))


def test_file_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='path='):
    data.load('arrays')
  with pytest.raises(FileNotFoundError, match='no such file'):
    data.from_arrays(tmp_path / 'missing.npz')
  odd = tmp_path / 'odd.npz'
  np.savez(odd, images=np.zeros((2, 3), np.float32))
  with pytest.raises(ValueError, match='missing key'):
    data.from_arrays(odd)
  text = tmp_path / 'text.npz'
  text.write_text('not an archive')
  with pytest.raises(ValueError, match='neither'):
    data.from_arrays(text)
  with pytest.raises(ValueError, match='nothing else'):
    data.from_arrays(odd, np.zeros((2, 1), np.int64))
