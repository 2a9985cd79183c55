"""Tests of the metric writer (JSON lines, PNG, TensorBoard) and log filters."""

import json
import logging as std_logging
import os
import struct

from absl import logging
import numpy as np
import pytest
from tensorboardX.proto import event_pb2

from disent_bias.utils import images as images_lib
from disent_bias.utils import logging_utils


def read_events(directory):
  """Every ``Event`` of the TFRecord event files in ``directory``.

  TFRecord framing: uint64 length, uint32 CRC, payload, uint32 CRC.
  """
  events = []
  for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name), 'rb') as f:
      data = f.read()
    offset = 0
    while offset < len(data):
      (length,) = struct.unpack('<Q', data[offset:offset + 8])
      payload = data[offset + 12:offset + 12 + length]
      events.append(event_pb2.Event.FromString(payload))
      offset += 12 + length + 4
  return events


def summaries(directory):
  """``{tag: [(step, value)]}``: scalars as floats, images as (h, w)."""
  out = {}
  for event in read_events(directory):
    for value in event.summary.value:
      if value.HasField('image'):
        item = (value.image.height, value.image.width)
      else:
        item = value.simple_value
      out.setdefault(value.tag, []).append((event.step, item))
  return out


def test_writer_writes_json_lines_png_and_tensorboard(tmp_path):
  writer = logging_utils.MetricWriter.for_workdir(str(tmp_path))
  writer.write_scalars(3, {'train/loss': 2.5, 'train/loss_per_seed': [2, 3]})
  paths = writer.write_images(3, {'grid': np.zeros((4, 5, 3), np.float32)})
  writer.close()
  (record,) = [json.loads(l) for l in open(tmp_path / 'metrics.jsonl')]
  assert record == {'step': 3, 'train/loss': 2.5, 'train/loss_per_seed': [2, 3]}
  assert paths == {'grid': str(tmp_path / 'images' / 'step_00000003' /
                               'grid.png')}
  assert os.path.exists(paths['grid'])
  found = summaries(tmp_path / 'tensorboard')
  assert found['train/loss'] == [(3, 2.5)]
  assert found['grid'] == [(3, (4, 5))]
  assert 'train/loss_per_seed' not in found


def test_writer_without_the_extra_writes_json_and_png_only(tmp_path,
                                                           monkeypatch):
  monkeypatch.setattr(logging_utils, 'tensorboardX', None)
  writer = logging_utils.MetricWriter.for_workdir(str(tmp_path))
  writer.write_scalars(1, {'x': 1.0})
  writer.write_images(1, {'grid': np.zeros((2, 2, 1), np.uint8)})
  writer.close()
  assert sorted(os.listdir(tmp_path)) == ['images', 'metrics.jsonl']


def test_training_run_writes_event_files_with_scalars_and_images(toy_run):
  found = summaries(os.path.join(toy_run, 'tensorboard'))
  assert [s for s, _ in found['train/loss']] == [5, 10, 15, 20]
  assert all(np.isfinite(v) for _, v in found['train/loss'])
  assert [s for s, _ in found['eval/kl']] == [10, 20]
  # Toy vectors (128 values) drawn as 24-pixel curves, 3 inputs over their
  # reconstructions: 2 rows x 3 columns with 1-pixel padding.
  assert found['reconstructions_seed0'][0] == (10, (2 * 25 + 1, 3 * 129 + 1))
  # One row per latent (3), one column per traversal value (4).
  assert found['traversals_seed0'][-1] == (20, (3 * 25 + 1, 4 * 129 + 1))
  records = [json.loads(l) for l in open(os.path.join(toy_run,
                                                      'metrics.jsonl'))]
  assert [r['step'] for r in records if 'train/loss' in r] == [5, 10, 15, 20]


@pytest.mark.parametrize('verbosity, shown', [(0, False), (1, True)])
def test_third_party_info_is_hidden_below_verbosity_one(verbosity, shown):
  # The absl logger's own level, restored as it was (NOTSET unless flags
  # were parsed): set_verbosity(get_verbosity()) would pin it at WARNING and
  # hide INFO lines from the tests that run after this one.
  absl_logger = logging.get_absl_logger()
  before = absl_logger.level
  logging.set_verbosity(verbosity)
  try:
    other = std_logging.LogRecord('orbax', std_logging.INFO,
                                  '/site-packages/orbax/x.py', 1, 'm', (),
                                  None)
    warning = std_logging.LogRecord('orbax', std_logging.WARNING,
                                    '/site-packages/orbax/x.py', 1, 'm', (),
                                    None)
    own = std_logging.LogRecord('absl', std_logging.INFO,
                                logging_utils.__file__, 1, 'm', (), None)
    keep = logging_utils.ThirdPartyInfoFilter().filter
    assert keep(other) == shown
    assert keep(warning) and keep(own)
  finally:
    absl_logger.setLevel(before)


def test_log_detail_is_verbose_inside_a_nested_run(monkeypatch):
  calls = []
  monkeypatch.setattr(logging, 'info', lambda *a: calls.append(('info', a)))
  monkeypatch.setattr(logging, 'vlog', lambda *a: calls.append(('vlog', a)))
  logging_utils.log_detail('a %d', 1)
  with logging_utils.nested_run():
    logging_utils.log_detail('b %d', 2)
  logging_utils.log_detail('c')
  assert calls == [('info', ('a %d', 1)), ('vlog', (1, 'b %d', 2)),
                   ('info', ('c',))]


def test_image_grid_layout_and_rounding():
  images = np.zeros((2, 3, 2, 2, 1), np.float32)
  images[1, 2] = 0.5
  images[0, 1] = 7.0  # Clipped to 1.
  grid = images_lib.image_grid(images)
  assert grid.shape == (2 * 3 + 1, 3 * 3 + 1, 1) and grid.dtype == np.uint8
  assert (grid[0] == 255).all() and (grid[:, 3] == 255).all()  # Borders.
  assert (grid[1:3, 1:3] == 0).all()
  assert (grid[1:3, 4:6] == 255).all()
  assert (grid[4:6, 7:9] == 128).all()  # 0.5 * 255 rounds to 128.
  floats = images_lib.image_grid(images, pad=2, pad_value=0.25,
                                    as_uint8=False)
  assert floats.shape == (2 * 4 + 2, 3 * 4 + 2, 1)
  assert floats.dtype == np.float32 and floats[0, 0, 0] == 0.25
  np.testing.assert_array_equal(floats[6:8, 10:12], 0.5)
  with pytest.raises(ValueError, match=r'\(rows, cols, H, W, C\)'):
    images_lib.image_grid(np.zeros((2, 2, 2, 1)))


def test_to_uint8():
  image = np.array([-1.0, 0.0, 0.5, 1.0, 2.0], np.float32)
  assert images_lib.to_uint8(image).tolist() == [0, 0, 128, 255, 255]
  raw = np.array([3, 200], np.uint8)
  assert images_lib.to_uint8(raw) is raw


def test_png_and_gif_round_trip(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  image = np.zeros((2, 3, 1), np.float32)
  image[1, 2] = 1.0
  png = images_lib.save_png(str(tmp_path / 'a' / 'x.png'), image, scale=2)
  with Image.open(png) as f:
    pixels = np.asarray(f)
  assert pixels.shape == (4, 6) and pixels[2:, 4:].min() == 255
  assert pixels.sum() == 4 * 255
  frames = np.stack([image, 1.0 - image, image])
  gif = images_lib.save_gif(str(tmp_path / 'x.gif'), frames)
  with Image.open(gif) as f:
    assert f.n_frames == 3 and f.info['loop'] == 0
  with pytest.raises(ValueError, match='at least one frame'):
    images_lib.save_gif(str(tmp_path / 'y.gif'), np.zeros((0, 2, 2, 1)))


def test_read_jsonl_drops_damaged_lines_and_names_them(tmp_path, caplog):
  path = tmp_path / 'metrics.jsonl'
  path.write_bytes(b'{"step": 1}\n{"loss": 2.0}\n{"step": 2, "x": "\xff"}\n'
                   b'\n{"step": 3}\n[1]\n{"step": "4"}\n{"step": 5, "loss"')
  with caplog.at_level(std_logging.WARNING):
    records = logging_utils.read_jsonl(str(path))
  assert [r['step'] for r in records] == [1, 3]
  assert caplog.records[-1].getMessage() == (
      f'{path}: dropped 5 damaged line(s), kept the other records: line 2 '
      '(no integer "step"); line 3 (not UTF-8); line 6 (no integer "step"); '
      'line 7 (no integer "step"); line 8 (invalid JSON)')


def test_truncate_after_repairs_a_damaged_log(tmp_path):
  path = tmp_path / 'metrics.jsonl'
  path.write_bytes(b'{"step": 2}\n{"step"\n{"no": "step"}\n{"step": 4}\n')
  logging_utils.MetricWriter(str(path)).truncate_after(2)
  assert path.read_text() == '{"step": 2}\n'
