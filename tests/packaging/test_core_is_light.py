"""Reading, validating and scoring need only numpy and jsonschema: no scikit-learn, no pandas."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_core_paths_import_neither_sklearn_nor_pandas(tmp_path, package):
    import crossform

    path = crossform.save(package, tmp_path / "pkg")
    script = textwrap.dedent(f"""
        import sys
        import crossform
        from crossform import cli, demo, validation
        scores = crossform.score({str(path)!r}, [{{"colour": "red", "size": 3.0}}, {{"colour": "mauve", "size": 1.0}}])
        assert scores.errors[0] is None and scores.errors[1] is not None
        assert cli.main(["validate", {str(path)!r}]) == 0
        assert validation.check({str(path)!r})["ok"] and demo.TARGET == "migrates"
        # the server's libraries (the serve extra) only load when `crossform serve` runs, pyspark when spark-score does
        heavy = ("sklearn", "pandas", "joblib", "scipy", "starlette", "uvicorn", "prometheus_client", "lightgbm", "pyspark")
        heavy = sorted(m for m in heavy if m in sys.modules)
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
