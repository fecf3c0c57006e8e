"""One SparkSession for the whole test session: pyspark's local mode on two cores, bound to
127.0.0.1, no UI. Without pyspark or Java every test here is a named skip.

Every Spark job a test starts is cancelled after JOB_SECONDS (the job then fails the test),
so a stuck executor cannot hang the suite.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading

import pytest

JOB_SECONDS = 90
NO_PYSPARK = "pyspark is not installed (pip install 'crossform[spark]')"


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark", reason=NO_PYSPARK)
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("Spark needs Java 17+ and none was found (no java on PATH, no JAVA_HOME)")
    from pyspark.sql import SparkSession

    from crossform import spark as crossform_spark

    saved = {name: os.environ.get(name) for name in ("PYSPARK_PYTHON", "SPARK_LOCAL_IP")}
    # the executors' Python workers run this interpreter, which has crossform (pyspark reads it at start)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crossform tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # the jvm runtime's classes (jvm/spark/); without them its tests are a named skip
        .config("spark.jars", "" if crossform_spark.jvm_unavailable() else ",".join(crossform_spark.jars()))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def jvm_spark(spark):
    """The session, when crossform.spark's jvm runtime can run in it; a named skip otherwise."""
    from crossform import spark as crossform_spark

    reason = crossform_spark.jvm_unavailable(spark)
    if reason:
        pytest.skip(f"crossform.spark runtime jvm: {reason}")
    return spark


@pytest.fixture(autouse=True)
def bounded_jobs(request):
    """Cancel the test's Spark jobs after JOB_SECONDS, when the test uses Spark."""
    if "spark" not in request.fixturenames and "jvm_spark" not in request.fixturenames:
        yield
        return
    context = request.getfixturevalue("spark").sparkContext
    timer = threading.Timer(JOB_SECONDS, context.cancelAllJobs)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
