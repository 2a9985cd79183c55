"""Reproduction of the paper's table: a grid of training runs, aggregated.

A reproduction config (``disent_bias/configs/reproduce.py``) describes a grid
of *cells*, one per dataset x variant x model, and carries the base train
config of every cell (``config.base_train``, e.g.
``disent_bias/configs/default.py``'s). Each cell is one
``train.train_and_evaluate`` run that trains ``num_seeds`` seeds at once
(``config.train.num_seeds``, vmapped), in its own workdir
``DIR/cells/<dataset>/<variant>/<model>/``. Its train config is the base
train config with, in this order, the protocol-wide overrides, the
dataset's, the model's and the dataset-model pair's, and finally the grid
coordinates (``data.name``, ``data.variant``, ``model.name``,
``train.num_seeds``, ``seed``): ``grid``. The config is parsed once
(``protocol.parse``) into a ``Protocol``: its cells with their resolved train
configs, the sweep axis, labels and table metrics; the driver, cells,
shards, sweep, units, job and ingest work from it.

Per dataset x variant the dataset-side local PCA analysis (docs/analysis.md)
runs once and is written to ``DIR/analysis/<dataset>/<variant>.json``
(``local_pca``).

Outputs of ``reproduce(config, workdir)`` (``driver``, ``outputs``):
- ``DIR/results.json``: one record per cell and seed (model, dataset, variant,
  seed, scores, timings; ``records``), the mean / sd summary, the analysis
  summaries;
- ``DIR/table.md``: per metric, a table laid out like the paper's Table 1 (rows
  models, columns datasets, cells ``mean (sd)`` original / perturbed / noise);
- ``DIR/bars.png``: grouped bar plot with seed-sd error bars;
- ``DIR/analysis.png``: histograms of the per-point local PCA alignment.

Progress (cells done / total, elapsed, ETA) is logged after every cell.

Sweeps (``sweep``): ``config.sweep.field`` (a dotted train-config field such
as ``data.epsilon`` or ``model.hparams.beta``) crossed with the grid at
``config.sweep.points``; each cell and value has its own workdir
``DIR/cells/<field>=<value>/<dataset>/<variant>/<model>/``, and the outputs
are ``table.md`` (one column per value) and ``sweep.png`` (metric against the
value with seed-sd error bars). Variants in ``sweep.unswept_variants`` train
once and stand at ``sweep.baseline`` on the axis. Shards (``shards``):
``reproduce(..., shard=Shard(i, n))`` runs cells ``i, i + n, ...`` of the
grid in the same workdir (one task of a job array); a run without a shard
then skips the finished cells and writes the outputs of the whole grid.

Every cell's train config is validated before any cell trains
(``protocol.parse``). A cell whose ``results.json`` is complete is
skipped on rerun, so a killed reproduction continues where it stopped; an
interrupted cell resumes from its last checkpoint (``train_and_evaluate``
resumes), and a cell whose ``results.json`` is torn, empty, short of seeds,
without per-seed records or changed since the cell finished (its digest in
``cell_timing.json``) runs again from its final checkpoint (re-scored, with
a warning naming the file). A rerun whose config differs for a cell already
started is refused before anything is written; a grid that differs from the
one of the table in the workdir is named in one warning (docs/workdir.md;
``cells``, ``driver``).
"""

from disent_bias.reproduce.driver import reproduce
from disent_bias.reproduce.grid import Cell
from disent_bias.reproduce.grid import cell_config
from disent_bias.reproduce.grid import expand_grid
from disent_bias.reproduce.grid import sweep_axis
from disent_bias.reproduce.grid import SweepAxis
from disent_bias.reproduce.local_pca import analyze_dataset
from disent_bias.reproduce.protocol import parse
from disent_bias.reproduce.protocol import Protocol
from disent_bias.reproduce.records import MECHANISM_KEYS
from disent_bias.reproduce.records import seed_records
from disent_bias.reproduce.records import summarize
from disent_bias.reproduce.shards import Shard
from disent_bias.reproduce.shards import shard_cells
from disent_bias.reproduce.tables import format_analysis_table
from disent_bias.reproduce.tables import format_table

__all__ = ['Cell', 'expand_grid', 'cell_config', 'sweep_axis', 'SweepAxis',
           'Protocol', 'parse', 'seed_records', 'summarize', 'MECHANISM_KEYS',
           'format_table', 'format_analysis_table', 'analyze_dataset', 'Shard',
           'shard_cells', 'reproduce']
