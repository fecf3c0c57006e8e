"""What the Spark tests share: conformance cases as Spark DataFrames, and scored rows read back
as crossform Scores so that checks.compare holds them to scikit-learn's recorded outputs."""

from __future__ import annotations

import numpy as np

from crossform import ir
from crossform.checks import Checks
from crossform.conformance import load_suite
from crossform.scores import Scores
from helpers.paths import CONFORMANCE

ROW = "case_row"  # the row's position in its case, kept through scoring to put rows back in order

# string categories with missing cells and unknown categories (row errors); numbers only, with NaN
# and infinities (row errors)
CASES = ("categories/encoded-missing", "splits/rf-binary")


def conformance_case(name: str):
    feature = name.split("/", 1)[0]
    (case,) = [c for c in load_suite(CONFORMANCE / "cases" / f"{feature}.json") if c.name == name]
    assert case.problem is None, case.problem
    return case


def spark_type(kind: str):
    from pyspark.sql import types as T

    return T.DoubleType() if kind == ir.NUMERIC else T.StringType()


def rows_frame(checks: Checks):
    """The case's rows as a pandas DataFrame: ROW, then a float64 (NaN missing) or object column per input."""
    import pandas as pd

    data = checks.data()
    columns = {ROW: np.arange(len(checks), dtype=np.int64)}
    for f in checks.columns:
        values = data[f.name]
        columns[f.name] = (
            np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            if f.kind == ir.NUMERIC
            else np.array(values, dtype=object)
        )
    return pd.DataFrame(columns)


def case_frame(spark, checks: Checks):
    """The case's rows as a Spark DataFrame: one double or string column per input, and ROW."""
    from pyspark.sql import types as T

    schema = T.StructType(
        [T.StructField(ROW, T.LongType(), False)]
        + [T.StructField(f.name, spark_type(f.kind), True) for f in checks.columns]
    )
    return spark.createDataFrame(rows_frame(checks), schema)


def scores_of(frame, outputs, error_column: str = "error") -> Scores:
    """A pandas frame of scored rows (with ROW) as Scores, in the case's row order."""
    import pandas as pd

    frame = frame.sort_values(ROW).reset_index(drop=True)
    assert frame[ROW].tolist() == list(range(len(frame))), "rows were lost or repeated"
    values = frame[list(outputs)].to_numpy(dtype=np.float64)
    errors = [None if pd.isna(e) else str(e) for e in frame[error_column]]
    return Scores(values, tuple(outputs), errors)
