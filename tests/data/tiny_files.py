"""Tiny files in the published formats, shared by the real-file loader tests
(files_test, files_shapes3d_mpi3d_test)."""

import numpy as np

MPI3D_SMALL = (2, 2, 1, 1, 1, 2, 3)  # 24 images of 4x4x3.


def factor_grid(sizes):
  """All factor rows in row-major order, computed with numpy's unravel."""
  n = int(np.prod(sizes))
  return np.stack(np.unravel_index(np.arange(n), sizes), axis=1)


def save_npz(path, arrays, compressed=True):
  (np.savez_compressed if compressed else np.savez)(path, **arrays)
  return str(path)


def mpi3d_images(sizes=MPI3D_SMALL, hw=(4, 4)):
  n = int(np.prod(sizes))
  return np.random.default_rng(0).integers(0, 256, (n, *hw, 3),
                                           dtype=np.uint8)
