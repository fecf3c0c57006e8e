"""Pipeline and ColumnTransformer: they route columns, they compute nothing."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ..errors import UnsupportedEstimatorError
from ._context import Context, ModelSpec, qualified_name


def _skipped(step) -> bool:
    """A step that does nothing: scikit-learn lets None or "passthrough" stand for the identity."""
    return step is None or (isinstance(step, str) and step == "passthrough")


def pipeline_steps(estimator) -> list:
    """The fitted steps an estimator runs, in order: a Pipeline's steps with
    nested pipelines opened and None / "passthrough" steps left out, or the
    estimator alone."""
    if not isinstance(estimator, Pipeline):
        return [estimator]
    return [inner for _, step in estimator.steps if not _skipped(step) for inner in pipeline_steps(step)]


def fitted_inputs(estimator) -> tuple:
    """(names or None, count) of the columns a fitted estimator reads.

    A Pipeline reads what its first step that does something read:
    scikit-learn's Pipeline asks its first step even when that step is
    "passthrough" (and fails), while that step passed the same columns on."""
    steps = pipeline_steps(estimator)
    if not steps:
        raise UnsupportedEstimatorError(
            "This Pipeline has no step that does something (every step is None or 'passthrough'); "
            "crossform exports pipelines that end in a model."
        )
    first = steps[0]
    if not hasattr(first, "n_features_in_") and type(first).__module__.split(".")[0] == "xgboost":
        from .xgboost import booster_inputs  # a raw Booster: its own feature names and count

        return booster_inputs(first)
    if not hasattr(first, "n_features_in_") and hasattr(first, "feature_name"):
        # a LightGBM Booster: it names its features itself (Column_0, ... for an array)
        names = first.feature_name()
        return [str(n) for n in names], len(names)
    if hasattr(first, "feature_name_") and type(first).__module__.split(".")[0] == "lightgbm":
        from .lightgbm import fitted_names  # feature_names_in_ says it only from LightGBM 4.6

        return fitted_names(first), int(first.n_features_in_)
    names = getattr(first, "feature_names_in_", None)
    return (None if names is None else [str(n) for n in names]), int(first.n_features_in_)


def convert_pipeline(pipe: Pipeline, ctx: Context, cols: list):
    result = cols
    steps = [(name, step) for name, step in pipe.steps if not _skipped(step)]
    for position, (name, step) in enumerate(steps):
        result = ctx.convert(step, result)
        if isinstance(result, ModelSpec) and position != len(steps) - 1:
            raise UnsupportedEstimatorError(f"Pipeline step {name!r} is a model but is not the last step.")
    return result


def convert_column_transformer(ct: ColumnTransformer, ctx: Context, cols: list) -> list:
    if ct.transformer_weights:
        raise UnsupportedEstimatorError("ColumnTransformer(transformer_weights=...) is not supported.")
    if ct.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"ColumnTransformer was fitted on {ct.n_features_in_} columns but receives {len(cols)}."
        )
    indices = getattr(ct, "_transformer_to_input_indices", None)
    if indices is None:  # pragma: no cover - present since scikit-learn 1.2
        raise UnsupportedEstimatorError("This scikit-learn version does not record ColumnTransformer input columns.")
    out: list = [None] * sum(s.stop - s.start for s in ct.output_indices_.values())
    for name, trans, _ in ct.transformers_:
        sub = [cols[i] for i in indices.get(name, [])]
        if (isinstance(trans, str) and trans == "drop") or not sub:
            continue
        produced = sub if isinstance(trans, str) and trans == "passthrough" else ctx.convert(trans, sub)
        if isinstance(produced, ModelSpec):
            raise UnsupportedEstimatorError(
                f"ColumnTransformer branch {name!r} ends in the model {qualified_name(type(trans))}; branches must transform."
            )
        where = ct.output_indices_[name]
        if len(produced) != where.stop - where.start:
            raise UnsupportedEstimatorError(
                f"ColumnTransformer branch {name!r} gives {len(produced)} columns, scikit-learn {where.stop - where.start}."
            )
        out[where] = produced
    try:
        names = [str(n) for n in ct.get_feature_names_out()]
    except AttributeError:
        # A branch without get_feature_names_out (an identity FunctionTransformer
        # fitted without feature_names_out): the names are only a naming hint.
        return out
    return ctx.rename(out, names)


def convert_function_transformer(ft: FunctionTransformer, ctx: Context, cols: list) -> list:
    """Only the identity, which is what a fitted ColumnTransformer keeps for "passthrough"."""
    if ft.func is not None:
        raise UnsupportedEstimatorError(
            f"FunctionTransformer(func={getattr(ft.func, '__name__', ft.func)!r}) runs arbitrary code, which "
            "crossform cannot see into; it exports a FunctionTransformer only as the identity (func=None). When you "
            "know what the code computes, write a converter for your own transformer class and register it "
            "through the 'crossform.converters' entry-point group (docs/plugins.md)."
        )
    return cols


CONVERTERS = {
    Pipeline: convert_pipeline,
    ColumnTransformer: convert_column_transformer,
    FunctionTransformer: convert_function_transformer,
}
