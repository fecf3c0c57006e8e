"""pmml's encoder kinds live in one module: each kind has a writer (ENCODER_FIELDS) and a
reader (ENCODER_READERS) there, and the reader table tells every kind apart by what its
DerivedFields hold, so adding a kind is one writer, one reader and their two entries."""

from __future__ import annotations

from crossform import ir
from crossform.exporters.pmml import encoders
from crossform.exporters.pmml.rules import REFUSED_ENCODERS


def test_every_ir_encoder_kind_has_a_writer_and_a_reader_or_is_refused_by_name():
    written = set(ir.ENCODER_TYPES) - set(REFUSED_ENCODERS)
    assert set(encoders.ENCODER_FIELDS) == written
    assert set(encoders.ENCODER_READERS) == written
    assert set(REFUSED_ENCODERS) <= set(ir.ENCODER_TYPES)


def test_each_kind_is_recognised_by_a_mark_no_other_kind_has():
    marks = [reader.mark for reader in encoders.ENCODER_READERS.values()]
    assert len(set(marks)) == len(marks), marks
