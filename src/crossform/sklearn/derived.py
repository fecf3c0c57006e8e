"""Columns derived from several inputs: PolynomialFeatures, as products in scikit-learn's order.

scikit-learn's dense ``PolynomialFeatures.transform`` (sklearn/preprocessing/_polynomial.py)
writes the bias column (1.0), the input columns, then for each degree d >= 2 and each feature j
the block ``np.multiply(XP[:, start:end], X[:, j])``: every degree-d term is one degree-(d-1)
term times one input column. Float64 multiplication is not associative, so the converter
replays that loop on factor lists (a term is its parent's list plus j) and writes each term
as a ``product`` step's left fold in that order, which computes the same bits. Degree-1 terms
are the input columns themselves. ``validate_data`` runs with ``ensure_all_finite=True``: NaN
or +-inf in any column fails the call, which the product step states for each of its features.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.preprocessing import PolynomialFeatures

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context


def polynomial_terms(poly: PolynomialFeatures, n_features: int) -> list:
    """The factor list of each output column, in the order transform writes them: () for the
    bias, (j,) for input j, and a degree-d term as its degree-(d-1) parent's list plus the
    feature it is multiplied by (the dense transform's loop, replayed on lists)."""
    max_degree, min_degree = poly._max_degree, poly._min_degree
    xp: list = [()] if poly.include_bias else []
    if max_degree == 0:
        return xp
    first = len(xp)
    xp.extend((j,) for j in range(n_features))
    index = [*range(first, first + n_features), first + n_features]
    current = first + n_features
    for _ in range(2, max_degree + 1):
        new_index = []
        end = index[-1]
        for j in range(n_features):
            start = index[j]
            new_index.append(current)
            if poly.interaction_only:
                start += index[j + 1] - index[j]
            following = current + end - start
            if following <= current:
                break
            xp.extend(xp[c] + (j,) for c in range(start, end))
            current = following
        new_index.append(current)
        index = new_index
    if min_degree > 1:  # transform computes every degree, then keeps the bias and the top ones
        kept = poly.n_output_features_
        xp = [(), *xp[len(xp) - kept + 1 :]] if poly.include_bias else xp[len(xp) - kept :]
    return xp


def _check_terms(poly: PolynomialFeatures, terms: list, n_features: int) -> None:
    """The replayed layout must be the fitted one: each term's factors counted per feature are
    its row of ``powers_``, or scikit-learn's loop has changed and the order cannot be trusted."""
    powers = np.zeros((len(terms), n_features), dtype=np.int64)
    for k, term in enumerate(terms):
        for j in term:
            powers[k, j] += 1
    if powers.shape != poly.powers_.shape or not np.array_equal(powers, poly.powers_):
        raise UnsupportedEstimatorError(
            f"PolynomialFeatures' output layout must be the one its dense transform writes "
            f"({len(terms)} terms in scikit-learn's order). Got powers_ of shape {poly.powers_.shape} "
            "that differ from it instead."
        )


def convert_polynomial_features(poly: PolynomialFeatures, ctx: Context, cols: list) -> list:
    n = len(cols)
    if poly.n_features_in_ != n:
        raise UnsupportedEstimatorError(
            f"PolynomialFeatures was fitted on {poly.n_features_in_} features but receives {n}."
        )
    ctx.require(cols, ir.NUMERIC, "PolynomialFeatures")
    terms = polynomial_terms(poly, n)
    _check_terms(poly, terms, n)
    names_in = [str(name) for name in getattr(poly, "feature_names_in_", [c.name for c in cols])]
    names = [str(name) for name in poly.get_feature_names_out(names_in)]
    derived = [k for k, term in enumerate(terms) if len(term) != 1]
    if not derived:  # only the inputs: nothing computed, but the input check still refuses
        kinds = (ir.NUMERIC,) * n
        return ctx.add_step(lambda f, o: ir.RefuseMissing(f, kinds, o), cols, [c.name for c in cols], kinds)
    factors = tuple(terms[k] for k in derived)
    made = ctx.add_step(
        lambda f, o: ir.Product(f, factors, o), cols, [names[k] for k in derived], [ir.NUMERIC] * len(derived)
    )
    out = [cols[term[0]] if len(term) == 1 else None for term in terms]
    for k, col in zip(derived, made):
        out[k] = col
    return out


CONVERTERS = {PolynomialFeatures: convert_polynomial_features}

# A projection is a dot product of every input, which scikit-learn computes through BLAS
# (1.9: X @ components_.T - mean_ @ components_.T; 1.4: (X - mean_) @ components_.T). The BLAS
# kernel, chosen per CPU, fixes the order of the sums: measured on 5000 rows, a float64 left
# fold equals transform bit for bit under OPENBLAS_CORETYPE=Prescott and differs by up to
# 2.2e-12 relative (20 inputs) and 5.5e-11 (50 inputs) under this machine's own kernel. No
# written order matches scikit-learn to 1e-12 on every CPU, and a tree after it can see a
# projection cross a threshold: refused by name (docs/SEMANTICS.md note 25).
_PROJECTION = (
    "its transform is a matrix product computed by BLAS, whose summation order depends on the CPU's "
    "kernel: no fixed order of float64 operations reproduces it to 1e-12 on every machine (measured "
    "up to 5.5e-11 relative at 50 inputs), so crossform refuses it rather than export it inexactly "
    "(docs/SEMANTICS.md note 25)"
)
REFUSED = {PCA: _PROJECTION, IncrementalPCA: _PROJECTION}
