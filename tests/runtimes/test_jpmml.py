"""The jpmml runtime: what it says when it cannot run, and the JVM it starts.

Scoring through it is tested with the pmml format (tests/formats/pmml/, e.g. test_pmml_kinds.py) and by the
conformance suite; these tests need no PMML writer.
"""

from __future__ import annotations

import builtins
import sys

import pytest

from crossform.runtime import jpmml, unavailable


def test_without_the_extra_it_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_jpype(name, *args, **kwargs):
        if name == "jpype" or name.startswith("jpype."):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "jpype", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_jpype)
    reason = jpmml.unavailable()
    assert reason == ("jpype is not installed: pip install 'crossform[pmml]' (JPMML is AGPL-3.0, an optional extra)")


def test_without_java_it_says_how_to_get_it(monkeypatch):
    jpype = pytest.importorskip("jpype")
    if jpype.isJVMStarted():
        pytest.skip("the JVM already runs in this process, so Java was found")

    def no_java():
        raise jpype.JVMNotFoundException("No JVM shared library file (libjvm.so) found.")

    monkeypatch.setattr(jpype, "getDefaultJVMPath", no_java)
    reason = jpmml.unavailable()
    assert reason.startswith(
        "no Java runtime found (JVMNotFoundException); install a JDK (Debian: apt-get install default-jdk-headless"
    )


def test_the_jvm_cannot_reach_the_network_and_reports_its_versions():
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml runtime unavailable: {reason}")
    jpype = jpmml._start()
    system = jpype.JClass("java.lang.System")
    for key in ("http.proxyHost", "https.proxyHost", "socksProxyHost"):
        assert str(system.getProperty(key)) == "127.0.0.1"
    for key in ("http.proxyPort", "https.proxyPort", "socksProxyPort"):
        assert str(system.getProperty(key)) == "9"
    text = jpmml.version()
    assert text.startswith("JPMML-Evaluator 1.") and "jpmml_evaluator 0." in text and ", Java " in text


def test_a_file_jpmml_refuses_is_a_named_error():
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml runtime unavailable: {reason}")
    from crossform.errors import CrossformError

    with pytest.raises(CrossformError, match="JPMML refuses the PMML file: jpmml: "):
        jpmml.build_evaluator(b"<?xml version='1.0'?><PMML xmlns='http://www.dmg.org/PMML-4_4' version='4.4'/>")
