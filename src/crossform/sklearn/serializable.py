"""make_serializable: the seed's API, a scikit-learn estimator that knows its package."""

from __future__ import annotations

from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from . import from_sklearn


class SerializableModel(MetaEstimatorMixin, BaseEstimator):
    """Fits ``estimator`` on a DataFrame, then exposes its crossform package.

    Fitting on a DataFrame is required so that the package's inputs carry
    the column names (the seed's fit_with_feature_names).
    """

    def __init__(self, estimator, owner=None, tags=None, metadata=None):
        self.estimator = estimator
        self.owner = owner
        self.tags = tags
        self.metadata = metadata

    def fit(self, X, y=None, **fit_params):
        if not hasattr(X, "columns"):
            raise InputError(
                "make_serializable models must be fitted on a pandas DataFrame, so that the package "
                f"names its inputs. Got {type(X).__name__} instead."
            )
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.model_package_ = from_sklearn(self.estimator_, owner=self.owner, tags=self.tags, metadata=self.metadata)
        return self

    @property
    def model_package(self):
        check_is_fitted(self, "model_package_")
        return self.model_package_

    def to_content_hash(self) -> str:
        return self.model_package.id

    @property
    def classes_(self):
        return self.estimator_.classes_

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        return self.estimator.__sklearn_tags__()
