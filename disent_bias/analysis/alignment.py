"""Local PCA of a Jacobian and how well it aligns with the coordinate axes.

Two scores per Jacobian ``J`` (P, K) — written for one matrix, ``jax.vmap``
them over points:

- ``distance_to_orthogonality`` (DtO, Rolinek et al. 2019): the right
  singular vectors ``V`` (K, K) of ``J`` are the local principal directions
  in factor (or latent) space; DtO is ``||V - P*||_F`` with ``P*`` the nearest
  signed permutation. It is 0 exactly when the columns of ``J`` are
  orthogonal, and a rotation by angle ``a`` in one plane gives
  ``2 sqrt(1 - cos a)`` (1.082 at 45 degrees, the largest value in 2-D).
  ``||V - P||^2 = 2K - 2 sum_i s_i V[i, pi(i)]`` for orthogonal ``V``, so the
  nearest signed permutation maximises ``sum_i |V[i, pi(i)]|``: a linear
  assignment on ``|V|``. For K <= ``MAX_BRUTE_FORCE_K`` it is solved in jnp by
  enumerating all K! permutations (jit/vmap-safe); larger K use
  ``scipy.optimize.linear_sum_assignment`` on the host
  (``distance_to_orthogonality_host``).
  DtO depends on the per-factor units (rescaling a column changes V unless
  the columns are orthogonal) and is unstable where singular values are
  nearly equal: there any small mixed term turns V. That fragility is real
  (it is what a perturbation exploits) but makes DtO a noisy score.
- ``offdiag_mass``: the normalised off-diagonal mass of the column cosine
  matrix ``C = D^-1/2 J^T J D^-1/2`` (``D = diag(J^T J)``):
  ``sum_{i != j} |C_ij| / sum_ij |C_ij|`` in [0, 1 - 1/K]; 0 for orthogonal
  columns, ``1 - 1/K`` for parallel ones. Normalising by the column norms
  makes it invariant to per-factor units, so factors with large effects do
  not drown the others (the raw ``J^T J`` version, ``offdiag_mass_raw``, is
  dominated by the largest columns). Zero columns contribute nothing.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

MAX_BRUTE_FORCE_K = 7
_TINY = 1e-12


def local_pca(jac: jax.typing.ArrayLike) -> tuple[jax.Array, jax.Array]:
  """Principal directions of one Jacobian via the eigenbasis of J^T J.

  Args:
    jac: float (P, K).

  Returns:
    singular_values: (K,) descending; V: (K, K), column i the i-th right
    singular vector (principal direction in factor space).
  """
  jac = jnp.asarray(jac, jnp.float32)
  gram = jac.T @ jac
  evals, evecs = jnp.linalg.eigh(gram)  # ascending
  order = jnp.arange(gram.shape[0])[::-1]
  return jnp.sqrt(jnp.maximum(evals[order], 0.0)), evecs[:, order]


def _permutations(k: int) -> np.ndarray:
  return np.array(list(itertools.permutations(range(k))), np.int32)


def nearest_signed_permutation(v: jax.typing.ArrayLike) -> jax.Array:
  """The signed permutation matrix closest to v (K, K) in Frobenius norm.

  jnp brute force over all K! permutations; K <= MAX_BRUTE_FORCE_K.
  """
  v = jnp.asarray(v, jnp.float32)
  k = v.shape[-1]
  if v.shape != (k, k):
    raise ValueError(f'v must be square (K, K), got {v.shape}')
  if k > MAX_BRUTE_FORCE_K:
    raise ValueError(f'brute force supports K <= {MAX_BRUTE_FORCE_K}, got {k}; '
                     'use distance_to_orthogonality_host')
  perms = jnp.asarray(_permutations(k))  # (K!, K): row i -> column perms[i]
  rows = jnp.arange(k)
  scores = jnp.abs(v)[rows[None, :], perms].sum(-1)
  best = perms[jnp.argmax(scores)]
  signs = jnp.where(v[rows, best] < 0, -1.0, 1.0)
  return jnp.zeros((k, k), jnp.float32).at[rows, best].set(signs)


def distance_to_orthogonality(jac: jax.typing.ArrayLike) -> jax.Array:
  """DtO of one Jacobian (P, K): ||V - P*||_F, a float32 scalar."""
  _, v = local_pca(jac)
  return jnp.linalg.norm(v - nearest_signed_permutation(v))


def distance_to_orthogonality_host(jacs: np.ndarray) -> np.ndarray:
  """DtO for a batch (N, P, K) on the host (any K, scipy assignment): (N,)."""
  jacs = np.asarray(jacs, np.float64)
  out = np.empty(len(jacs))
  for i, jac in enumerate(jacs):
    evals, v = np.linalg.eigh(jac.T @ jac)
    v = v[:, ::-1]
    rows, cols = optimize.linear_sum_assignment(-np.abs(v))
    p = np.zeros_like(v)
    p[rows, cols] = np.where(v[rows, cols] < 0, -1.0, 1.0)
    out[i] = np.linalg.norm(v - p)
  return out


def cosine_matrix(jac: jax.typing.ArrayLike) -> jax.Array:
  """Column cosines of one Jacobian (P, K): (K, K), zero for zero columns."""
  jac = jnp.asarray(jac, jnp.float32)
  gram = jac.T @ jac
  norms = jnp.sqrt(jnp.maximum(jnp.diag(gram), 0.0))
  safe = jnp.where(norms > _TINY, norms, 1.0)
  cos = gram / safe[:, None] / safe[None, :]
  live = (norms > _TINY)[:, None] & (norms > _TINY)[None, :]
  return jnp.where(live, cos, 0.0)


def _offdiag_fraction(mat: jax.Array) -> jax.Array:
  a = jnp.abs(mat)
  total = a.sum()
  off = total - jnp.trace(a)
  return jnp.where(total > _TINY, off / jnp.where(total > _TINY, total, 1.), 0.)


def offdiag_mass(jac: jax.typing.ArrayLike) -> jax.Array:
  """sum_{i!=j} |C_ij| / sum |C_ij| of the column cosine matrix: scalar."""
  return _offdiag_fraction(cosine_matrix(jac))


def offdiag_mass_raw(jac: jax.typing.ArrayLike) -> jax.Array:
  """sum_{i!=j} |G_ij| / sum |G_ij| of the raw Gram matrix G = J^T J."""
  jac = jnp.asarray(jac, jnp.float32)
  return _offdiag_fraction(jac.T @ jac)


def max_abs_cosine(jac: jax.typing.ArrayLike) -> jax.Array:
  """The largest |cosine| between two distinct columns: scalar."""
  cos = jnp.abs(cosine_matrix(jac))
  return jnp.max(cos - jnp.diag(jnp.diag(cos)))


def _scores_without_dto(jac: jax.Array) -> dict[str, jax.Array]:
  return dict(offdiag_mass=offdiag_mass(jac),
              offdiag_mass_raw=offdiag_mass_raw(jac),
              max_abs_cosine=max_abs_cosine(jac),
              singular_values=local_pca(jac)[0])


def alignment_scores(jac: jax.typing.ArrayLike) -> dict[str, jax.Array]:
  """All per-Jacobian scores (DtO needs K <= MAX_BRUTE_FORCE_K): scalars."""
  return dict(dto=distance_to_orthogonality(jac), **_scores_without_dto(jac))


# Built once, so that repeated calls reuse the compiled programs per shape.
_batched_scores = jax.jit(jax.vmap(alignment_scores))
_batched_scores_without_dto = jax.jit(jax.vmap(_scores_without_dto))


def batch_alignment_scores(jacs: jax.typing.ArrayLike) -> dict[str, np.ndarray]:
  """``alignment_scores`` vmapped over (N, P, K); host scipy DtO for large K."""
  jacs = jnp.asarray(jacs, jnp.float32)
  k = jacs.shape[-1]
  if k <= MAX_BRUTE_FORCE_K:
    out = _batched_scores(jacs)
    return {name: np.asarray(val) for name, val in out.items()}
  out = {name: np.asarray(val)
         for name, val in _batched_scores_without_dto(jacs).items()}
  out['dto'] = distance_to_orthogonality_host(np.asarray(jacs))
  return out
