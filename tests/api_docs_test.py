"""The API reference pages (``docs/build_api.py``) build without warnings."""

import warnings

import pytest

import doc_commands_test


def _build_api():
  return doc_commands_test.docs_module('build_api')


def test_the_api_pages_build_with_warnings_as_errors(tmp_path):
  pytest.importorskip('pdoc')
  build_api = _build_api()
  with warnings.catch_warnings():
    warnings.simplefilter('error')
    pages = build_api.build(tmp_path)
  names = {p.relative_to(tmp_path).as_posix() for p in pages}
  for page in ('index.html', 'disent_bias.html', 'disent_bias/tools/encoding.html',
               'disent_bias/metrics.html', 'disent_bias/metrics/dci.html',
               'disent_bias/data.html', 'disent_bias/data/export.html',
               'disent_bias/analysis/dataset.html',
               'disent_bias/configs/default.html',
               'disent_bias/reproduce/driver.html'):
    assert page in names, page
  assert not any(n.startswith('disent_bias/cli') for n in names)

  def text(page: str) -> str:
    return (tmp_path / page).read_text(encoding='utf-8')

  assert 'href="disent_bias/tools/encoding.html#encode"' in text('disent_bias.html')
  assert 'id="encode"' in text('disent_bias/tools/encoding.html')
  assert 'id="dci_sample"' in text('disent_bias/metrics.html')
  assert 'id="from_arrays"' in text('disent_bias/data.html')
  assert 'id="local_alignment"' in text('disent_bias/analysis.html')
