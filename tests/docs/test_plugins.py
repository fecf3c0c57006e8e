"""docs/plugins.md runs as written: its blocks become an installed plugin
distribution (a dist-info folder with the page's entry points on sys.path),
and its example converts, saves, loads and scores through the plugin."""

from __future__ import annotations

import re
import sys

import pytest
import tomllib

import crossform
from crossform import exporters
from crossform.errors import MalformedPackageError, UnsupportedEstimatorError
from crossform.sklearn import converters
from helpers.paths import REPO

PAGE = REPO / "docs" / "plugins.md"


def blocks() -> dict:
    """file name -> text, from the page's ```python and ```toml blocks that start with '# file: NAME'."""
    found = {}
    for text in re.findall(r"```(?:python|toml)\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S):
        first, _, rest = text.partition("\n")
        match = re.fullmatch(r"# file: (\S+)", first)
        assert match, f"a block of docs/plugins.md does not name its file: {first!r}"
        found[match.group(1)] = rest
    return found


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    files = blocks()
    for name, text in files.items():
        if name.endswith(".py"):
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    (tmp_path / "birdplugin" / "__init__.py").touch()
    project = tomllib.loads(files["pyproject.toml"])["project"]
    dist = tmp_path / f"{project['name']}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    converters.cache_clear()
    exporters.registry.cache_clear()
    yield tmp_path, files
    monkeypatch.undo()
    for mod in [m for m in sys.modules if m == "birdplugin" or m.startswith("birdplugin.")]:
        sys.modules.pop(mod)
    converters.cache_clear()
    exporters.registry.cache_clear()


def test_the_page_has_every_part():
    assert {
        "birdplugin/scaler.py",
        "birdplugin/converters.py",
        "birdplugin/bundle.py",
        "pyproject.toml",
        "example.py",
    } <= set(blocks())


def test_the_worked_example_runs(plugin):
    root, files = plugin
    exec(compile(files["example.py"], str(PAGE), "exec"), {"__name__": "plugins_example"})
    assert (root / "prices.bundle").is_file()


def test_without_the_plugin_the_scaler_is_refused(plugin):
    root, files = plugin
    import numpy as np
    from birdplugin.scaler import PriceScaler
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeRegressor

    X = np.arange(20.0).reshape(10, 2)
    model = Pipeline([("p", PriceScaler()), ("t", DecisionTreeRegressor(max_depth=2))]).fit(X, X[:, 0])
    assert crossform.from_sklearn(model).encoders  # with the plugin installed
    (root / "birdplugin-1.0.dist-info" / "entry_points.txt").write_text("")
    converters.cache_clear()
    with pytest.raises(UnsupportedEstimatorError, match="PriceScaler.*entry-point"):
        crossform.from_sklearn(model)


def test_the_plugin_format_is_conformance_checked(plugin, capsys):
    root, files = plugin
    exec(compile(files["example.py"], str(PAGE), "exec"), {"__name__": "plugins_example"})
    from crossform.cli import main

    code = main(["conform", "prices.bundle", "--format", "bird-bundle", "--json", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert '"bird-bundle"' in out


def test_the_plugin_reader_names_bad_input(plugin):
    bundle = exporters.get_format("bird-bundle")

    with pytest.raises(MalformedPackageError, match="bad.bundle: expected a JSON document"):
        bundle.loads(b"\xff not json", where="bad.bundle")
    with pytest.raises(MalformedPackageError, match="base64"):
        bundle.loads(b'{"format": "bird-bundle", "version": "1.0", "files": {"MODEL": "@@"}}', where="b")
