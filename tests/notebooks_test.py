"""Executes every notebook in colab/ top to bottom at smoke size."""

import glob
import os

import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, 'colab', '*.ipynb')))
_COLAB = ('https://colab.research.google.com/github/disent-bias/disent_bias/'
          'blob/main/colab/')
_SOURCE = 'git+https://github.com/disent-bias/disent_bias'
# Keys that Colab or Jupyter add and that must not be committed.
_FORBIDDEN_METADATA = ('colab', 'accelerator', 'widgets', 'varInspector')


def test_notebooks_exist_and_are_numbered():
  names = [os.path.basename(p) for p in NOTEBOOKS]
  assert names == ['01_quickstart.ipynb', '02_datasets_and_perturbations.ipynb',
                   '03_local_pca_analysis.ipynb', '04_reproduce_table.ipynb']


@pytest.mark.parametrize('path', NOTEBOOKS, ids=os.path.basename)
def test_notebook_is_commit_ready(path):
  nb = nbformat.read(path, as_version=4)
  nbformat.validate(nb)
  first = nb.cells[0]
  assert first.cell_type == 'markdown'
  assert first.source.startswith('# ')
  # How to open it in Colab: the badge, and an install cell that needs no edit.
  assert 'In Colab' in first.source and 'DISENT_BIAS_SOURCE' in first.source
  assert _COLAB + os.path.basename(path) in first.source
  assert 'Runtime' in first.source
  assert not set(nb.metadata) & set(_FORBIDDEN_METADATA)
  sources = '\n'.join(c.source for c in nb.cells if c.cell_type == 'code')
  assert 'import disent_bias' in sources or 'from disent_bias' in sources
  assert 'DISENT_BIAS_NOTEBOOK_SMOKE' in sources
  assert "os.environ.get('DISENT_BIAS_SOURCE'" in sources
  assert _SOURCE in sources
  assert "find_spec('disent_bias') is None" in sources
  assert 'OWNER' not in sources and 'OWNER' not in first.source
  assert '/work/' not in sources and 'drive.mount' not in sources
  for cell in nb.cells:
    assert not set(cell.metadata) & set(_FORBIDDEN_METADATA)
    if cell.cell_type == 'code':
      assert cell.outputs == [] and cell.execution_count is None


def test_the_table_notebook_trains_only_on_request():
  """04 shows the committed results, found from the package, by default."""
  (path,) = [p for p in NOTEBOOKS if p.endswith('04_reproduce_table.ipynb')]
  nb = nbformat.read(path, as_version=4)
  sources = '\n'.join(c.source for c in nb.cells if c.cell_type == 'code')
  assert 'RERUN = False' in sources and 'if RERUN or SMOKE:' in sources
  assert 'disent_bias.__file__' in sources
  assert "'results/quick'" not in sources


def test_the_quickstart_text_states_the_config_it_runs():
  """01's text names the quick protocol's beta-VAE settings."""
  from disent_bias.configs import reproduce_settings  # pylint: disable=g-import-not-at-top
  nb = nbformat.read(os.path.join(ROOT, 'colab', '01_quickstart.ipynb'),
                     as_version=4)
  text = '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown')
  toy = reproduce_settings.QUICK_TOY
  beta = reproduce_settings.QUICK_TOY_HPARAMS['beta_vae']['beta']
  for phrase in (f'MLP {tuple(toy["hidden"])}', f'beta {beta:g}',
                 f'{toy["steps"]:,} steps', f'weight {toy["recon_weight"]:g}',
                 'decoded_mean'):
    assert phrase in ' '.join(text.split()), phrase


@pytest.mark.slow
@pytest.mark.parametrize('path', NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
  nbclient = pytest.importorskip('nbclient')
  monkeypatch.setenv('DISENT_BIAS_NOTEBOOK_SMOKE', '1')
  monkeypatch.setenv('JAX_PLATFORMS', 'cpu')
  # Smoke-size programs: XLA compile time dominates, so skip most of its
  # optimisations (results are not asserted, only that every cell runs).
  monkeypatch.setenv('JAX_DISABLE_MOST_OPTIMIZATIONS', '1')
  nb = nbformat.read(path, as_version=4)
  client = nbclient.NotebookClient(nb, timeout=300, kernel_name='python3',
                                   resources={'metadata': {
                                       'path': str(tmp_path)}})
  client.execute()
  errors = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs
            if o.output_type == 'error']
  assert not errors
