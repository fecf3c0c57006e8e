"""Columns derived from several inputs: PolynomialFeatures, as products in scikit-learn's order,
and PCA / IncrementalPCA, as projections in a fixed fold order.

scikit-learn's dense ``PolynomialFeatures.transform`` (sklearn/preprocessing/_polynomial.py)
writes the bias column (1.0), the input columns, then for each degree d >= 2 and each feature j
the block ``np.multiply(XP[:, start:end], X[:, j])``: every degree-d term is one degree-(d-1)
term times one input column. Float64 multiplication is not associative, so the converter
replays that loop on factor lists (a term is its parent's list plus j) and writes each term
as a ``product`` step's left fold in that order, which computes the same bits. Degree-1 terms
are the input columns themselves. ``validate_data`` runs with ``ensure_all_finite=True``: NaN
or +-inf in any column fails the call, which the product step states for each of its features.

PCA and IncrementalPCA (the dense path of ``_BasePCA.transform``, sklearn/decomposition/_base.py)
compute ``X @ components_.T - mean_ @ components_.T`` from scikit-learn 1.5 on and ``(X - mean_)
@ components_.T`` in 1.4, then, under ``whiten``, divide by ``sqrt(explained_variance_)`` (from
1.5 clipped below at the dtype's eps). The products go through BLAS, whose kernel fixes the
order of the sums: the projection step states one order (a left fold over the inputs), which
equals transform bit for bit under OpenBLAS's Prescott kernel and lies within the last bits of it
under others (docs/SEMANTICS.md note 25).
"""

from __future__ import annotations

import numpy as np
import sklearn
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


CENTRE_AFTER_FROM = (1, 5)  # scikit-learn 1.5 moved the mean after the product and clipped the scale


def _release() -> tuple:
    return tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in sklearn.__version__.split(".")[:2])


def projection_parameters(pca) -> tuple:
    """(mean, components, divisors or None, centring) as the installed scikit-learn's transform
    uses them; float32 fits and whitened components of zero variance before 1.5 are refused."""
    name = type(pca).__name__
    for attr in ("components_", "mean_", "explained_variance_"):
        value = getattr(pca, attr, None)
        if not isinstance(value, np.ndarray) or value.dtype != np.float64:
            found = "none" if value is None else getattr(value, "dtype", type(value).__name__)
            raise UnsupportedEstimatorError(
                f"{name}'s {attr} must be a float64 array (a fit on float64 data: a float32 fit computes "
                f"its mean term in float32). Got {found} instead."
            )
    after = _release() >= CENTRE_AFTER_FROM
    divisors = None
    if pca.whiten:
        scale = np.sqrt(pca.explained_variance_)
        if after:  # _transform: scale[scale < min_scale] = min_scale
            eps = np.finfo(scale.dtype).eps
            scale[scale < eps] = eps
        elif not (scale > 0).all() or not np.isfinite(scale).all():
            raise UnsupportedEstimatorError(
                f"{name}(whiten=True) must have a positive variance in every component to be exported "
                f"(scikit-learn {sklearn.__version__} divides by its square root unclipped). "
                f"Got explained_variance_ {pca.explained_variance_.tolist()[:10]} instead."
            )
        divisors = scale
    return pca.mean_, pca.components_, divisors, "after" if after else "before"


def convert_projection(pca, ctx: Context, cols: list) -> list:
    name = type(pca).__name__
    n = len(cols)
    if pca.n_features_in_ != n:
        raise UnsupportedEstimatorError(f"{name} was fitted on {pca.n_features_in_} features but receives {n}.")
    ctx.require(cols, ir.NUMERIC, name)
    mean, components, divisors, centring = projection_parameters(pca)
    names = [str(out) for out in pca.get_feature_names_out()]
    return ctx.add_step(
        lambda f, o: ir.Projection(f, mean, components, o, divisors, centring),
        cols,
        names,
        [ir.NUMERIC] * len(names),
    )


CONVERTERS = {
    PolynomialFeatures: convert_polynomial_features,
    PCA: convert_projection,
    IncrementalPCA: convert_projection,
}
