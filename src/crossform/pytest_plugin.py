"""A pytest plugin: assert in your own test suite that a package conforms.

Installed with crossform and loaded by pytest through the ``pytest11`` entry
point. The fixture ``crossform_conform`` is
:func:`crossform.conformance.assert_conforms`::

    def test_fraud_model_conforms(crossform_conform):
        crossform_conform("models/fraud-pkg")                  # a saved package
        crossform_conform(package, rows=[{"amount": 12.5}])    # a Package, plus your rows
        crossform_conform("conformance/", formats=["stripe-json"])  # a suite

It writes the package in every registered format, reads it back, scores the
package's checks, rows generated at its splits and your rows in every
runtime, and fails the test naming each case, format, runtime and row that
differs. It returns the report (crossform.conformance.Report).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def crossform_conform():
    from .conformance import assert_conforms

    return assert_conforms
