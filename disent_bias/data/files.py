"""Loaders for the published dSprites, Shapes3D and MPI3D files.

All loaders return a ``GroundTruthData`` with ``is_pure=False``: ``render``
looks the images up on the host and returns numpy float32 (n, H, W, C) in
[0, 1]. The files are opened once; nothing is downloaded. Where the format
allows, the images stay on disk:

- dSprites ``.npz``: ``imgs`` is a zip member. If the member is stored
  uncompressed it is memory-mapped through its offset in the zip; the
  published file is compressed, so its 737,280 binary images are streamed
  once and kept bit-packed in memory (~0.38 GB instead of 3.0 GB as uint8).
- Shapes3D ``.h5``: memory-mapped when ``images`` is contiguous and
  uncompressed, else read lazily with h5py (the file stays open); or fully
  into memory (5.9 GB) with ``in_memory=True``.
- MPI3D ``.npz``: memory-mapped when ``images`` is stored uncompressed,
  otherwise read into memory (12.7 GB for the 6x6 grid). A plain ``.npy`` of
  the images array (the zip member, extracted) is always memory-mapped.

Every loader checks the keys, dtypes and shapes against the published grid
and raises ``FileNotFoundError`` / ``ValueError`` / ``TypeError`` naming the
file and the problem. ``factor_sizes=`` replaces the published grid; it exists
for tests (tiny files in the real formats) and for files that hold a full
row-major sub-grid. The default checks the full published grid and 64x64
images.

``'arrays'`` reads a user dataset in the generic layout (``data.arrays``).

One module per format: ``dsprites_npz``, ``shapes3d_h5``, ``mpi3d_npz``; the
shared readers and checks are in ``file_formats``. This module gathers the
loaders by dataset name.
"""

from __future__ import annotations

import functools

from disent_bias.data import arrays
from disent_bias.data import dsprites_npz
from disent_bias.data import mpi3d_npz
from disent_bias.data import shapes3d_h5

load_dsprites = dsprites_npz.load_dsprites
load_shapes3d = shapes3d_h5.load_shapes3d
load_mpi3d = mpi3d_npz.load_mpi3d

LOADERS = {
    'arrays': arrays.load,
    'dsprites': load_dsprites,
    'shapes3d': load_shapes3d,
    'mpi3d_toy': functools.partial(load_mpi3d, kind='toy'),
    'mpi3d_realistic': functools.partial(load_mpi3d, kind='realistic'),
    'mpi3d_real': functools.partial(load_mpi3d, kind='real'),
}
