"""Every shell command of the README and docs/ is run by a test.

``doc_commands`` collects the commands of the ```bash blocks. The quick
start's are run here (shrunk only through the flags the README shows);
every other one is in ``REGISTRY`` with the test that runs it (the same
binary and config, shrunk through a preset or a documented flag) or the
reason none can. A new command that is neither fails
``test_every_doc_command_is_run_here_or_registered``.
"""

import importlib.util
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

import packaging_test

ROOT = pathlib.Path(__file__).resolve().parents[1]
_DOCS = ('README.md', *sorted(f'docs/{p.name}'
                              for p in (ROOT / 'docs').glob('*.md')))
_PAPER_CORE = 'experiments/configs/reproduce.py:paper_core'
_JOB_TEST = ('tests/experiments/job_binary_test.py::'
             'test_job_then_ingest_then_a_second_job_skips_the_done_units')
_DOC_BINARIES = 'tests/experiments/doc_binaries_test.py::'
# Command -> the test that runs it (path::name), or None with the reason.
REGISTRY = {
    'pip install .': (
        'tests/packaging_test.py::test_the_wheel_installs_disent_bias_only',
        'builds the wheel pip installs'),
    'pip install -e . && python -m experiments.reproduce --config=experiments/'
    'configs/reproduce.py:quick --workdir=/tmp/disent_bias_quick': (
        'tests/reproduce/driver_test.py::'
        'test_driver_writes_outputs_and_skips_finished_cells',
        'the same grid through the smoke preset; the quick one in results/'),
    "pip install -e '.[test,tfds]' && JAX_PLATFORMS=cpu python -m pytest "
    '-n 2': (None, 'the suite itself; .ci/run runs this very line'),
    'python -m experiments.reproduce --config=experiments/configs/'
    'reproduce.py:images --workdir=DIR': (
        'tests/reproduce/presets_test.py::test_dci_option_and_images_protocol',
        'the preset is checked; the grid is results/images/'),
    'python -m experiments.reproduce --config=experiments/configs/'
    'reproduce.py:images_conv --workdir=DIR': (
        'tests/reproduce/presets_test.py::'
        'test_every_preset_gives_valid_train_configs',
        'the preset is checked; the grid is results/images_conv/'),
    'python -m experiments.reproduce --config=experiments/configs/'
    'reproduce.py:sprites_conv --workdir=DIR': (
        'tests/reproduce/presets_test.py::'
        'test_every_preset_gives_valid_train_configs',
        'the preset is checked; the grid is results/sprites_conv/'),
    'python -m experiments.reproduce --config=experiments/configs/'
    'reproduce.py:eps_dose --workdir=/tmp/disent_bias_eps_dose': (
        'tests/reproduce/presets_test.py::'
        'test_every_preset_gives_valid_train_configs',
        'the preset is checked; the grid is results/eps_dose/'),
    f'python -m experiments.job --config={_PAPER_CORE} --out=DIR '
    '--budget_s=540': (_JOB_TEST, 'the same binary on the job_smoke preset'),
    f'python -m experiments.job --config={_PAPER_CORE} --ingest=DIR '
    '--workdir=results/paper_core': (_JOB_TEST, 'ingests that job'),
    'python -m experiments.pca2019 --workdir=results/pca2019': (
        'tests/studies/pca2019_test.py::test_binary_writes_the_table',
        'fewer seeds and steps through its flags'),
    'python3 -m pip download --no-deps --only-binary=:all: -d .whl '
    'ml-collections': (
        'tests/experiments/job_binary_test.py::'
        'test_bootstrap_installs_missing_packages_from_wheels',
        'installs from such a folder; the download needs the index'),
    'DISENT_BIAS_COMMIT=$(git rev-parse HEAD) BENCH_SECONDS=130 bash '
    'experiments/accelerator_job.sh "$OUT" 570 paper_core': (
        None, 'an accelerator allocation (docs/gpu.md); its job step is '
        + _JOB_TEST),
    'python -m experiments.show_data --dataset=dsprites --out=docs/images': (
        _DOC_BINARIES + 'test_show_data_writes_the_figures',
        'the same binary on another dataset and variant'),
    'python -m experiments.show_data --dataset=shapes3d --out=docs/images': (
        _DOC_BINARIES + 'test_show_data_writes_the_figures',
        'the same binary, the noise variant'),
    'python -m experiments.show_data --dataset=shapes3d --variant=noise '
    '--out=/tmp/data': (_DOC_BINARIES + 'test_show_data_writes_the_figures',
                        'this command, another --out'),
    'python -m experiments.bench_eval --metrics=mig,dci --num_train=300 '
    '--num_test=100 --backends=exact': (
        _DOC_BINARIES + 'test_bench_eval_smoke_run_prints_both_measurements',
        'this command'),
    'python -m experiments.bench_eval': (
        _DOC_BINARIES + 'test_bench_eval_smoke_run_prints_both_measurements',
        'the smoke run of the same binary (its documented flags)'),
    'python -m experiments.bench_eval --workdir=DIR': (
        _DOC_BINARIES + 'test_bench_eval_smoke_run_prints_both_measurements',
        'the smoke run; --workdir restores a run as evaluate does'),
    'python -m experiments.analyze --path=mine.npz --workdir=/tmp/audit': (
        _DOC_BINARIES + 'test_analyze_a_dataset_and_audit_a_file',
        'this command on an exported toy grid, fewer points'),
    "python -m experiments.encoder_forms --workdirs='RUNS/*_conv/cells/*/"
    "original/beta_*' --metrics=mig,dci,sap,modularity_explicitness,"
    "factor_vae,beta_vae --num_train=2000 --num_test=1000": (
        'tests/experiments/encoder_forms_test.py::'
        'test_both_forms_encode_a_conv_model_alike',
        'its functions on an initialised conv model, MIG at smaller sizes'),
    'python -m experiments.dci_deviation': (
        'tests/experiments/dci_deviation_test.py::'
        'test_saved_samples_read_every_seed_and_the_stored_exact_scores',
        'its functions on a small sample; the table is in docs/metrics.md'),
    'python -m experiments.train --config=experiments/configs/default.py '
    '--workdir=W --config.train.num_steps=20': (
        'tests/experiments/train_binary_test.py::'
        'test_cli_run_writes_the_workdir', 'the same binary, a smaller data'),
    'python -m experiments.evaluate --workdir=W': (
        'tests/experiments/evaluate_binary_test.py::'
        'test_evaluate_binary_writes_eval_json', 'with smaller samples'),
    'python -m experiments.export --dataset=dsprites --variant=perturbed '
    '--out=/tmp/dsprites_perturbed.h5': (
        'tests/experiments/export_binary_test.py::'
        'test_noise_variant_of_a_user_file',
        'the same binary on a reduced grid (tests/data/export_test.py '
        'covers the dSprites layouts)'),
    'python -m experiments.export --dataset=dsprites --layout=dsprites '
    '--out=/tmp/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz': (
        'tests/experiments/export_binary_test.py::'
        'test_noise_variant_of_a_user_file',
        'the same binary; the dSprites layout in tests/data/export_test.py'),
    'python -m experiments.noise_control --model=beta_vae --epsilons=0.1,0.05 '
    '--workdir=DIR': (
        'tests/experiments/noise_control_test.py::'
        'test_noise_control_writes_its_records', 'its run() at 10 steps'),
    'python -m experiments.noise_control --model=pcl --num_steps=6000 '
    '--epsilons=0.1,0.05 --workdir=DIR': (
        'tests/experiments/noise_control_test.py::'
        'test_noise_control_writes_its_records', 'its run() at 10 steps'),
    'python -m experiments.throughput > throughput.jsonl': (
        'tests/experiments/throughput_test.py::'
        'test_cli_prints_one_json_line_per_measurement', 'tiny forms'),
    'python -m experiments.throughput --forms=all --budget_s=330 > all.jsonl':
        ('tests/experiments/throughput_test.py::'
         'test_forms_are_selected_by_name', 'form selection and budget'),
    'JAX_PLATFORMS=cpu python -m experiments.throughput --cost_analysis': (
        'tests/experiments/throughput_test.py::'
        'test_cost_analysis_per_seed_step', 'the cost analysis'),
    'python3 -m venv /work/torch-ref && /work/torch-ref/bin/pip install '
    'torch==2.13.0 numpy': (None, 'the PyTorch reference needs torch from '
                            'the package index'),
    'JAX_PLATFORMS=cpu python -m experiments.benchmark '
    '--torch_python=/work/torch-ref/bin/python --rounds 2 --steps 5 '
    '--repeats 3': (None, 'needs that PyTorch environment; the JAX side '
                    'shares experiments.throughput_lib (tests above)'),
    'JAX_PLATFORMS=cpu python -m experiments.train --config=experiments/'
    'configs/default.py:model=beta_vae,dataset=toy_bumps,runlocal '
    '--workdir=/tmp/run2 --config.distributed.coordinator_address=$ADDR '
    '--config.distributed.num_processes=2 '
    '--config.distributed.process_id=$i &': (
        'tests/distributed_test.py::'
        'test_two_processes_match_one_process_with_two_devices',
        'two processes on this host, as here'),
    "pip install -e '.[docs]' && python docs/build_api.py "
    '/tmp/disent_bias_api': (
        'tests/api_docs_test.py::'
        'test_the_api_pages_build_with_warnings_as_errors',
        'the same build into a temporary folder, warnings as errors'),
    'unzip -p mpi3d_real.npz images.npy > mpi3d_real_images.npy': (
        None, 'needs the real MPI3D file; the .npy it writes is read in '
        'tests/data/files_shapes3d_mpi3d_test.py::test_mpi3d_round_trip'),
}
_TRAIN = ('disent-bias-train --config=disent_bias/configs/toy.py '
          '--config.train.num_steps=12000 --workdir=/tmp/disent_bias_toy')
_VISUALIZE = ('disent-bias-visualize --workdir=/tmp/disent_bias_toy '
              '--num_images=4')
# The quick start's commands, run by test_the_quick_start_commands_run.
RUN_HERE = (_TRAIN, _VISUALIZE)


# Lines of a bash block that are shell structure, not commands.
_SHELL = re.compile(r'^(do|done|wait|for .*; do|[A-Z_]+=\S+)$')
# The first words of a command: in a block of another language it is
# reported by test_commands_are_in_bash_blocks.
_COMMAND = re.compile(r'^\s*(python3?|pip|disent-bias-\S+|bash|[A-Z_]+=\S+ '
                      r'python|unzip|tensorboard)\b')


def _blocks(language: str):
  """(file, block text) of every fenced block of ``language`` ('' for none)."""
  for name in _DOCS:
    text = (ROOT / name).read_text(encoding='utf-8')
    for lang, block in re.findall(r'```(\w*)\n(.*?)```', text, re.S):
      if lang == language:
        yield name, block


def doc_commands() -> dict[str, str]:
  """Command -> the file it is in, from every ```bash block (trailing
  comments dropped)."""
  out = {}
  for name, block in _blocks('bash'):
    for line in block.replace('\\\n', ' ').splitlines():
      line = ' '.join(re.sub(r'\s+#.*$', '', line).split())
      if line and not line.startswith('#') and not _SHELL.match(line):
        out[line] = name
  return out


def test_commands_are_in_bash_blocks():
  """A command in an untagged or text block would escape the registry."""
  stray = [(name, line) for lang in ('', 'text', 'sh', 'shell', 'console')
           for name, block in _blocks(lang) for line in block.splitlines()
           if _COMMAND.match(line) and '[--' not in line]
  assert not stray, f'commands outside ```bash blocks: {stray}'


def test_every_doc_command_is_run_here_or_registered():
  commands = doc_commands()
  unknown = sorted(set(commands) - set(REGISTRY) - set(RUN_HERE))
  assert not unknown, ('commands in the docs that no test runs; run them in '
                       f'a test and add them to REGISTRY: {unknown}')
  stale = sorted((set(REGISTRY) | set(RUN_HERE)) - set(commands))
  assert not stale, f'registered commands no doc has any more: {stale}'


def test_every_registered_test_exists():
  for command, (test, reason) in REGISTRY.items():
    assert reason, command
    if test is None:
      continue
    path, name = test.split('::')
    text = (ROOT / path).read_text(encoding='utf-8')
    assert re.search(rf'^def {name}\(', text, re.M), test


def test_the_test_command_is_the_one_ci_runs():
  ci = (ROOT / '.ci' / 'run').read_text(encoding='utf-8')
  test_commands = [c for c in doc_commands() if 'pytest' in c]
  assert len(test_commands) == 1 and test_commands[0] in ci


def _shell_words(command: str, **shrink: str) -> list[str]:
  """A console-script command as this interpreter runs it, with the
  ``--flag=value`` of ``shrink`` replaced (documented flags only)."""
  words = shlex.split(command)
  for flag, value in shrink.items():
    index = next(i for i, w in enumerate(words) if w.startswith(flag + '='))
    words[index] = f'{flag}={value}'
  module, function = packaging_test.console_scripts()[words[0]].split(':')
  return [sys.executable, '-c', f'from {module} import {function}; '
          f'{function}()', *words[1:]]


@pytest.mark.slow
def test_the_quick_start_commands_run(tmp_path):
  """The README's train and visualize commands, from another directory."""
  workdir = str(tmp_path / 'toy')
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONPATH=os.pathsep.join(
      [str(ROOT), os.environ.get('PYTHONPATH', '')]))
  logs = []
  for command, shrink in ((_TRAIN, {'--config.train.num_steps': '200'}),
                          (_VISUALIZE, {})):
    command = command.replace('/tmp/disent_bias_toy', workdir)
    proc = subprocess.run(_shell_words(command, **shrink), cwd=tmp_path,
                          env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logs.append(proc.stderr)
  results = json.loads((tmp_path / 'toy' / 'results.json').read_text())
  assert results['num_steps'] == 200
  assert 'training beta_vae on toy_bumps (5 seed(s), batch 64): 200 steps' in (
      logs[0])
  figures = list((tmp_path / 'toy' / 'visualize').glob('step_*/*.gif'))
  assert figures


def docs_module(name: str):
  """The script ``docs/<name>.py`` imported as a module."""
  spec = importlib.util.spec_from_file_location(
      name, ROOT / 'docs' / f'{name}.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _quickstart():
  return docs_module('quickstart')


def test_the_readme_api_example_is_the_script():
  readme = (ROOT / 'README.md').read_text(encoding='utf-8')
  (example,) = re.findall(r'```python\n(.*?)```',
                          readme.split('## Quick start', 1)[1].split(
                              '\n## ', 1)[0], re.S)
  script = {line.strip() for line in
            (ROOT / 'docs' / 'quickstart.py').read_text().splitlines()}
  missing = [line for line in example.splitlines()
             if line.strip() and line.strip() not in script]
  assert not missing, missing


@pytest.mark.slow
def test_the_api_quick_start_runs():
  """``python docs/quickstart.py`` with fewer steps and points."""
  scores = _quickstart().main(num_steps=300, num_points=400)
  assert set(scores) == {'original', 'perturbed'}
  assert scores['original']['data_dto'] < 0.05
  assert scores['perturbed']['data_dto'] > 0.5
  for record in scores.values():
    assert 0 <= record['mig'] <= 1 and 0 <= record['dci'] <= 1
