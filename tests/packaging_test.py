"""The package as users install it: the wheel's contents, its metadata and
console scripts, and config paths that work from any directory."""

import importlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from disent_bias.cli import common

ROOT = pathlib.Path(__file__).resolve().parents[1]
# What the wheel is built from: the files a clone has (no build outputs).
_SOURCES = ('pyproject.toml', 'setup.py', 'README.md', 'LICENSE',
            'disent_bias', 'experiments')


def console_scripts() -> dict[str, str]:
  """``[project.scripts]`` of pyproject.toml: name -> ``module:function``."""
  text = (ROOT / 'pyproject.toml').read_text(encoding='utf-8')
  section = text.split('[project.scripts]', 1)[1].split('\n[', 1)[0]
  return dict(re.findall(r'^([\w-]+)\s*=\s*"([\w.:]+)"', section, re.M))


def test_every_console_script_names_an_entry_function():
  scripts = console_scripts()
  assert {'disent-bias-train', 'disent-bias-evaluate', 'disent-bias-visualize',
          'disent-bias-reproduce', 'disent-bias-analyze',
          'disent-bias-aggregate', 'disent-bias-job',
          'disent-bias-noise-control', 'disent-bias-pca2019'} <= set(scripts)
  for target in scripts.values():
    module, function = target.split(':')
    assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.parametrize('spec', [
    'disent_bias/configs/toy.py:smoke', 'experiments/configs/toy.py:smoke',
    'toy.py:smoke'])
def test_a_package_config_path_resolves_from_another_directory(tmp_path,
                                                               spec):
  resolved = common.resolve_config_path(spec, cwd=str(tmp_path))
  assert resolved == os.path.join(common.CONFIG_DIR, 'toy.py') + ':smoke'
  assert os.path.isfile(resolved.split(':')[0])


def test_a_config_path_that_exists_or_is_unknown_is_kept(tmp_path):
  (tmp_path / 'disent_bias' / 'configs').mkdir(parents=True)
  (tmp_path / 'disent_bias' / 'configs' / 'toy.py').write_text('')
  local = 'disent_bias/configs/toy.py:smoke'
  assert common.resolve_config_path(local, cwd=str(tmp_path)) == local
  for spec in ('nowhere/toy.py', 'disent_bias/configs/nothing.py'):
    assert common.resolve_config_path(spec, cwd=str(tmp_path)) == spec


def test_config_flags_are_resolved_in_both_spellings(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  argv = ['prog', '--config=disent_bias/configs/default.py:quick',
          '--config', 'experiments/configs/toy.py', '--workdir=x']
  out = common.resolve_config_flags(argv)
  assert out[1] == ('--config=' + os.path.join(common.CONFIG_DIR, 'default.py')
                    + ':quick')
  assert out[3] == os.path.join(common.CONFIG_DIR, 'toy.py')
  assert out[4] == '--workdir=x'


@pytest.mark.slow
def test_the_wheel_installs_disent_bias_only(tmp_path):
  src = tmp_path / 'src'
  src.mkdir()
  for name in _SOURCES:
    path = ROOT / name
    if path.is_dir():
      shutil.copytree(path, src / name,
                      ignore=shutil.ignore_patterns('__pycache__'))
    else:
      shutil.copy(path, src / name)
  subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
                  '--no-build-isolation', '-w', str(tmp_path / 'dist'),
                  str(src)], check=True, capture_output=True, text=True)
  (wheel,) = (tmp_path / 'dist').glob('disent_bias-*.whl')
  with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    info = next(n for n in names if n.endswith('.dist-info/METADATA'))
    metadata = z.read(info).decode()
    entry_points = z.read(info.replace('METADATA', 'entry_points.txt'))
  tops = {n.split('/')[0] for n in names}
  assert tops == {'disent_bias', info.split('/')[0]}, tops
  assert 'disent_bias/configs/reproduce.py' in names
  assert 'disent_bias/cli/train.py' in names
  for field in ('Home-page: ', 'Project-URL: Homepage, '):
    assert field + 'https://github.com/disent-bias/disent_bias' in metadata
  assert re.search(r'^Requires-Dist: h5py.*extra == "h5"', metadata, re.M)
  assert not re.search(r'^Requires-Dist: h5py[^;]*$', metadata, re.M)
  for name, target in console_scripts().items():
    assert f'{name} = {target}' in entry_points.decode()


def test_readme_images_are_absolute_links_to_committed_files():
  """The README is the package index page: relative image links break
  there, so each names the repository's raw file, which must exist."""
  text = (ROOT / 'README.md').read_text(encoding='utf-8')
  links = re.findall(r'!\[[^]]*\]\(([^)]+)\)', text)
  prefix = 'https://raw.githubusercontent.com/disent-bias/disent_bias/main/'
  assert links
  for link in links:
    assert link.startswith(prefix), link
    assert (ROOT / link[len(prefix):]).is_file(), link
