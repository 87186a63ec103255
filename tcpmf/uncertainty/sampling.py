r"""Draws of uncertain inputs: Monte Carlo or Latin hypercube, with rank correlations.

Every draw starts as a uniform number per input (plain Monte Carlo, or a Latin hypercube from
:class:`scipy.stats.qmc.LatinHypercube`).  Rank correlations are then induced by the method of
Iman & Conover (1982): the columns of uniforms are *reordered* so that their ranks follow normal
scores with the requested correlation.  Reordering keeps every column's values, so each input's
marginal distribution (and a Latin hypercube's stratification) is exactly what was asked for.
Each input's value is its distribution's quantile at its uniform (:meth:`Distribution.ppf`).

A Spearman rank correlation :math:`\rho_s` is met by a Pearson correlation of normal scores of
:math:`r = 2\sin(\pi\rho_s/6)`, which is what the score matrix is given.

All randomness comes from one :class:`numpy.random.SeedSequence` per chunk (a batch run's chunk
``c`` of product ``p`` is ``SeedSequence(seed).spawn(P)[p].spawn(C)[c]``), so a chunk's draws never
depend on which worker runs it.  Within a chunk each input draws from a child stream keyed by its
dotted name, and the reordering for correlations from one keyed by the correlated names: adding,
removing or re-ordering *other* inputs leaves an input's draws as they were (common random numbers
when two variants of a portfolio are compared).  Per-input Latin hypercube columns are a Latin
hypercube: the strata of each column are independently permuted in either construction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tcpmf.schema.distributions import U_HIGH, U_LOW, Choice, Distribution

__all__ = [
    "U_HIGH",
    "U_LOW",
    "correlated_groups",
    "correlation_matrix",
    "draw_inputs",
    "keyed_stream",
    "rank_correlate",
    "uniforms",
]


def uniforms(n: int, k: int, rng: np.random.Generator, method: str = "lhs") -> NDArray[np.float64]:
    """``(n, k)`` uniforms in ``[U_LOW, U_HIGH]``: ``"mc"`` independent, ``"lhs"`` a Latin
    hypercube (whose scipy construction can reach 1.0 itself, where an unbounded quantile is inf)."""
    if method == "mc":
        u = rng.random((n, k))
    elif method == "lhs":
        if k == 0:
            return np.empty((n, 0))
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=k, rng=rng).random(n)
    else:
        raise ValueError(f"method must be 'lhs' or 'mc', not {method!r}")
    return np.clip(u, U_LOW, U_HIGH, out=u)  # u is a fresh array


def correlation_matrix(
    keys: Sequence[str], correlations: Sequence[tuple[str, str, float]]
) -> NDArray[np.float64]:
    """The Spearman matrix over *keys* (identity where no correlation is given)."""
    index = {k: i for i, k in enumerate(keys)}
    matrix = np.eye(len(keys))
    for a, b, rho in correlations:
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
    return matrix


def rank_correlate(
    u: NDArray[np.float64], spearman: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.float64]:
    """Reorder each column of *u* (n × k) so the columns' rank correlations approach *spearman*.

    Iman & Conover (1982) with van der Waerden scores; with fewer than ``k + 2`` rows the order is
    left as drawn (a correlation needs rows to show).
    """
    from scipy.stats import norm

    n, k = u.shape
    if k < 2 or n < k + 2:
        return u
    target = 2.0 * np.sin(np.pi * spearman / 6.0)
    np.fill_diagonal(target, 1.0)
    scores = norm.ppf(np.arange(1, n + 1) / (n + 1))
    s = np.column_stack([rng.permutation(scores) for _ in range(k)])
    p = _cholesky(target)
    q = _cholesky(np.corrcoef(s, rowvar=False))  # a few rows may give nearly dependent columns
    t = s @ np.linalg.solve(q, p.T)  # s · Q^-T · P^T, rows now correlated as target
    out = np.empty_like(u)
    for j in range(k):
        out[np.argsort(t[:, j]), j] = np.sort(u[:, j])
    return out


def _cholesky(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Lower Cholesky factor of a correlation matrix, its eigenvalues first raised to at least 1e-6.

    The score correlation of a short chunk (a run's last one may hold a handful of draws) can be
    singular, and ``2 sin(πρ/6)`` can nudge a valid Spearman matrix off positive definiteness;
    only the ranks of the result matter, so a nearby positive definite matrix serves.
    """
    values, vectors = np.linalg.eigh(matrix)
    if values.min() > 1e-6:
        return np.asarray(np.linalg.cholesky(matrix), dtype=np.float64)
    fixed = (vectors * np.maximum(values, 1e-6)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return np.asarray(np.linalg.cholesky(fixed / np.outer(scale, scale)), dtype=np.float64)


def correlated_groups(correlations: Sequence[tuple[str, str, float]]) -> list[list[str]]:
    """The keys linked by *correlations*, split into connected groups, each sorted by name (so
    neither the file's order nor an unrelated correlation changes how a group is drawn)."""
    parent: dict[str, str] = {}

    def root(k: str) -> str:
        while parent.setdefault(k, k) != k:
            k = parent[k]
        return k

    for a, b, _ in correlations:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for k in parent:
        groups.setdefault(root(k), []).append(k)
    return sorted(sorted(g) for g in groups.values())


def keyed_stream(seed: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A generator for *name* within the stream *seed*: the child whose spawn key extends *seed*'s by
    a 64-bit number from the SHA-256 of *name*, so it does not depend on what else is drawn."""
    word = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")
    child = np.random.SeedSequence(
        seed.entropy, spawn_key=(*seed.spawn_key, word), pool_size=seed.pool_size
    )
    return np.random.default_rng(child)


def draw_inputs(
    uncertainties: Mapping[str, Distribution],
    n: int,
    seed: np.random.SeedSequence | int,
    method: str = "lhs",
    correlations: Sequence[tuple[str, str, float]] = (),
) -> pd.DataFrame:
    """*n* draws of every uncertain input: one column per dotted key, in the given order.

    Each input draws from its own stream within *seed* (:func:`keyed_stream`), so the draws of
    one input do not change when others are added; correlated inputs are then reordered together.
    Numeric inputs are float columns; a choice among names is a categorical column whose
    categories are the options.
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    keys = list(uncertainties)
    u = np.empty((len(keys), n))  # an input's uniforms side by side in memory
    for j, key in enumerate(keys):
        u[j] = uniforms(n, 1, keyed_stream(root, key), method)[:, 0]
    for group in correlated_groups(correlations):  # each on its own stream: others leave it be
        columns = [keys.index(k) for k in group]
        rng = keyed_stream(root, "correlations: " + " ~ ".join(group))
        links = [c for c in correlations if c[0] in group]
        u[columns] = rank_correlate(
            np.ascontiguousarray(u[columns].T), correlation_matrix(group, links), rng
        ).T
    frame: dict[str, object] = {}
    for j, key in enumerate(keys):
        dist = uncertainties[key]
        if isinstance(dist, Choice) and not dist.numeric:
            frame[key] = pd.Categorical.from_codes(
                dist.codes(u[j]), categories=[str(o) for o in dist.options]
            )
        elif not dist.numeric:  # a fixed name
            frame[key] = pd.Categorical.from_codes(
                np.zeros(n, np.int64), categories=[str(dist.nominal())]
            )
        else:
            frame[key] = np.asarray(dist.ppf(u[j]), dtype=float)
    # one block per column, as drawn: no copy into a two-dimensional block
    return pd.DataFrame(frame, index=pd.RangeIndex(n), copy=False)
