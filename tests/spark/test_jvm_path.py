"""crossform.spark's jvm runtime: the scoring runs in the executors' JVM (jvm/spark/Scoring.java)
with no Python worker. The conformance packages score as scikit-learn did, and on inputs of
every Spark type (and CSV cells) the rows, values and errors are the Python path's."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

import crossform
from crossform.checks import compare
from crossform.errors import CrossformError, InputError
from helpers.spark import CASES, ROW, case_frame, conformance_case, scores_of

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'crossform[spark]')")

JVM_FORMATS = {"stripe-json": "", "protobuf": ".pb"}  # the formats crossform's Java reader reads


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("format_name", JVM_FORMATS)
def test_the_jvm_path_scores_every_format_it_reads_as_scikit_learn_did(jvm_spark, tmp_path, case_name, format_name):
    from crossform import spark as crossform_spark

    case = conformance_case(case_name)
    path = crossform.save(case.package, tmp_path / f"package{JVM_FORMATS[format_name]}", format=format_name)

    scored = crossform_spark.score(case_frame(jvm_spark, case.checks), str(path), runtime="jvm", keep=[ROW])

    outputs = list(case.package.outputs)
    assert scored.columns == [ROW, *outputs, "error"]
    assert crossform_spark.resolved_of(scored) == {
        "kind": "path",
        "given": str(path),
        "tag": None,
        "id": case.package.id,
        "format": format_name,
        "source": str(path),
    }
    comparison = compare(case.checks, scores_of(scored.toPandas(), outputs), case.package.model)
    assert comparison.ok, comparison.summary()
    assert case.checks.errors.any(), "the case was chosen for its row errors"


def _both_paths(spark, frame, path, **options):
    """(Python path's rows, JVM path's rows), each as a pandas frame in ROW order."""
    from crossform import spark as crossform_spark

    python = crossform_spark.score(frame, path, keep=[ROW], **options).toPandas()
    jvm = crossform_spark.score(frame, path, keep=[ROW], runtime="jvm", **options).toPandas()
    return python.sort_values(ROW).reset_index(drop=True), jvm.sort_values(ROW).reset_index(drop=True)


def _assert_same_rows(python, jvm, outputs, messages: bool):
    assert python[ROW].tolist() == jvm[ROW].tolist()
    assert (python["error"].isna() == jvm["error"].isna()).all(), "rows in error differ"
    scored = python["error"].isna().to_numpy()
    for name in outputs:
        a, b = python[name].to_numpy(dtype=float), jvm[name].to_numpy(dtype=float)
        assert np.array_equal(a[scored], b[scored]), f"{name} differs between the paths"
        assert np.isnan(b[~scored]).all(), "an output of a row in error is not null"
    if messages:
        assert python["error"].fillna("").tolist() == jvm["error"].fillna("").tolist()


@pytest.fixture(scope="module")
def mixed_package(tmp_path_factory):
    """A forest over two numeric inputs and one string category, with missing values learned."""
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    rng = np.random.default_rng(3)
    n = 600
    X = pd.DataFrame(
        {
            "amount": rng.normal(50, 20, n),
            "count": rng.integers(0, 9, n).astype(float),
            "city": rng.choice(["berlin", "lima", "oslo"], n).astype(object),
        }
    )
    X.loc[rng.random(n) < 0.1, "amount"] = np.nan
    y = (X["amount"].fillna(50) + 10 * X["count"] > 90).astype(int) ^ (X["city"] == "lima")
    encode = ColumnTransformer(
        [("city", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["city"])],
        remainder="passthrough",
    )
    model = make_pipeline(encode, HistGradientBoostingClassifier(max_iter=15, random_state=0)).fit(X, y)
    path = tmp_path_factory.mktemp("mixed") / "package"
    crossform.save(crossform.from_sklearn(model, checks=50), path, format="stripe-json")
    return str(path)


def test_inputs_of_every_spark_type_read_as_the_python_path_reads_them(jvm_spark, mixed_package):
    """Integers, floats, booleans and decimals are numbers; null and NaN are missing; a string in a
    numeric input and a number in a categorical one are row errors, in the same rows."""
    from pyspark.sql import types as T

    schema = T.StructType(
        [
            T.StructField(ROW, T.LongType()),
            T.StructField("amount", T.DecimalType(12, 4)),
            T.StructField("count", T.IntegerType()),
            T.StructField("city", T.StringType()),
        ]
    )
    rows = [
        (0, Decimal("61.2500"), 3, "berlin"),
        (1, None, 8, "lima"),
        (2, Decimal("-3.1000"), None, "oslo"),
        (3, Decimal("12.0000"), 1, None),
        (4, Decimal("99.9999"), 0, "tokyo"),  # unknown: the encoder's unknown value
    ]
    frame = jvm_spark.createDataFrame(rows, schema)
    python, jvm = _both_paths(jvm_spark, frame, mixed_package)
    _assert_same_rows(python, jvm, list(crossform.load(mixed_package).outputs), messages=False)
    assert python["error"].isna().all()

    swapped = T.StructType(
        [
            T.StructField(ROW, T.LongType()),
            T.StructField("amount", T.StringType()),  # text where a number is expected
            T.StructField("count", T.BooleanType()),
            T.StructField("city", T.DoubleType()),  # a number where a category is expected
        ]
    )
    rows = [(0, "12.5", True, None), (1, None, False, None), (2, None, None, 4.0), (3, "x", None, 1.0)]
    frame = jvm_spark.createDataFrame(rows, swapped)
    python, jvm = _both_paths(jvm_spark, frame, mixed_package)
    _assert_same_rows(python, jvm, list(crossform.load(mixed_package).outputs), messages=False)
    assert python["error"].notna().tolist() == [True, False, True, True]


def test_csv_cells_read_by_crossform_scores_rules_in_both_paths(jvm_spark, mixed_package):
    """Text cells as a CSV file has them: NA spellings are missing, TRUE is 1, inf a number (this
    model takes infinities), '1_000' and '0x10' row errors naming the cell; both paths give the
    same values and the same messages."""
    from pyspark.sql import types as T

    schema = T.StructType(
        [T.StructField(ROW, T.LongType())] + [T.StructField(n, T.StringType()) for n in ("amount", "count", "city")]
    )
    cells = [
        ("61.25", "3", "berlin"),
        ("NA", "8", "lima"),
        (" -3.1e0 ", "TRUE", "oslo"),
        ("inf", "1", "N/A"),
        ("1_000", "0", "berlin"),
        ("12", "0x10", "lima"),
        ("+.5", "-Infinity", ""),
        (None, "nan", None),
        ("12.", "false", "#N/A"),
    ]
    frame = jvm_spark.createDataFrame([(i, *row) for i, row in enumerate(cells)], schema)
    python, jvm = _both_paths(jvm_spark, frame, mixed_package, csv_cells=True)
    _assert_same_rows(python, jvm, list(crossform.load(mixed_package).outputs), messages=True)
    assert python["error"].notna().tolist() == [False, False, False, False, True, True, False, False, False]
    assert "'1_000'" in python["error"][4] and "'0x10'" in python["error"][5]


def test_each_executor_jvm_reads_the_package_once(jvm_spark, mixed_package):
    from crossform import spark as crossform_spark

    frame = jvm_spark.range(0, 2000, numPartitions=4).selectExpr(
        f"id AS {ROW}", "CAST(id % 97 AS DOUBLE) AS amount", "CAST(id % 9 AS DOUBLE) AS count", "'oslo' AS city"
    )
    for _ in range(2):
        assert crossform_spark.score(frame, mixed_package, runtime="jvm").filter("error IS NULL").count() == 2000
    package_id = crossform.load(mixed_package).id
    # local mode: the executor is the driver's JVM, where the count can be read
    assert jvm_spark._jvm.dev.crossform.spark.Scoring.loads(package_id, "stripe-json") == 1


def test_bytes_that_do_not_hash_to_the_id_are_refused_in_the_jvm(jvm_spark, mixed_package):
    """The Java side checks the id itself: handed another id, it refuses before any job."""
    from py4j.protocol import Py4JJavaError

    from crossform import spark as crossform_spark
    from crossform.store import read_content

    content, _ = read_content(mixed_package)
    files = jvm_spark._jvm.java.util.LinkedHashMap()
    for name, data in content.items():
        files.put(name, bytearray(data))
    gateway = jvm_spark.sparkContext._gateway
    other = "sha256." + "A" * 52
    frame = jvm_spark.range(1).selectExpr("1.0 AS amount", "2.0 AS count", "'oslo' AS city")
    with pytest.raises(Py4JJavaError, match="IdMismatch|hashes to"):
        jvm_spark._jvm.dev.crossform.spark.Scoring.score(
            frame._jdf,
            files,
            other,
            "stripe-json",
            crossform_spark._java_list(gateway, []),
            crossform_spark._java_list(gateway, list(crossform.load(mixed_package).outputs)),
            "error",
            "{}",
            None,
        )


def test_a_refusal_on_the_java_side_is_a_named_error(jvm_spark, mixed_package):
    """What the Java side throws reaches the caller as a CrossformError naming the Java exception,
    not a py4j traceback: here bytes handed over under an id they do not hash to."""
    from crossform import spark as crossform_spark
    from crossform.store import read_content

    content, _ = read_content(mixed_package)
    resolved = crossform_spark.Resolved("path", mixed_package, None, "sha256." + "A" * 52, "stripe-json", mixed_package)
    frame = jvm_spark.range(1).selectExpr("1.0 AS amount", "2.0 AS count", "'oslo' AS city")
    outputs = list(crossform.load(mixed_package).outputs)
    with pytest.raises(CrossformError, match=r"the Java side refused package sha256\.A+ .*IdMismatch.*hashes to"):
        crossform_spark._score_in_jvm(frame, resolved, content, [], outputs, "error", False)


def test_a_format_the_java_reader_does_not_read_is_refused_by_name(jvm_spark, tmp_path):
    from crossform import spark as crossform_spark

    case = conformance_case(CASES[1])
    path = crossform.save(case.package, tmp_path / "package.onnx", format="onnx")
    with pytest.raises(CrossformError, match="the jvm runtime reads stripe-json and protobuf packages"):
        crossform_spark.score(case_frame(jvm_spark, case.checks), str(path), runtime="jvm")


def test_a_missing_spark_jar_is_named(monkeypatch, tmp_path):
    from crossform import spark as crossform_spark

    monkeypatch.setenv(crossform_spark.SPARK_JAR_VARIABLE, str(tmp_path / "nowhere.jar"))
    reason = crossform_spark.jvm_unavailable()
    assert reason is not None and "nowhere.jar" in reason and "./dev jvm" in reason


def test_the_sql_function_scores_as_the_transformation(jvm_spark, mixed_package):
    """register: the package as a SQL function of a struct, in the executors' JVM; the same values
    and rows in error as score(runtime="jvm"), a value of the wrong type included."""
    from pyspark.sql import types as T

    from crossform import spark as crossform_spark

    schema = T.StructType(
        [T.StructField(ROW, T.LongType())]
        + [
            T.StructField(n, t)
            for n, t in (("amount", T.DoubleType()), ("count", T.LongType()), ("city", T.StringType()))
        ]
    )
    rows = [(0, 61.25, 3, "berlin"), (1, None, 8, "lima"), (2, float("nan"), None, None), (3, 1.5, 2, "tokyo")]
    jvm_spark.createDataFrame(rows, schema).createOrReplaceTempView("txns")
    resolved = crossform_spark.register(jvm_spark, "fraud_score", mixed_package)
    assert resolved.kind == "path" and resolved.id == crossform.load(mixed_package).id

    via_sql = jvm_spark.sql(f"SELECT {ROW}, fraud_score(struct(*)) AS s FROM txns").select(ROW, "s.*").toPandas()
    via_score = crossform_spark.score(jvm_spark.table("txns"), mixed_package, runtime="jvm", keep=[ROW]).toPandas()
    outputs = list(crossform.load(mixed_package).outputs)
    assert list(via_sql.columns) == [ROW, *outputs, "error"]
    _assert_same_rows(
        via_score.sort_values(ROW).reset_index(drop=True),
        via_sql.sort_values(ROW).reset_index(drop=True),
        outputs,
        messages=True,
    )

    refused = jvm_spark.sql(
        "SELECT fraud_score(named_struct('amount', 'text', 'count', 1, 'city', 'oslo')) AS s"
    ).first()["s"]
    assert refused["error"] == "feature 'amount': expected a number or missing, got 'text' (String)"
    assert refused[outputs[0]] is None
    with pytest.raises(InputError, match="SQL function name"):
        crossform_spark.register(jvm_spark, "drop table", mixed_package)
