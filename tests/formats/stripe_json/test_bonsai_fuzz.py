"""bonsai under fuzzing: mutated, random and truncated files load or are refused by name; random forests round trip."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from crossform import errors, ir
from crossform.exporters._versions import FormatVersionWarning
from crossform.exporters.stripe_json import bonsai
from helpers.bonsai import (
    F32_REWRITTEN,
    FUZZ,
    HEADER,
    ODD_THRESHOLDS,
    WHERE,
    assert_round_trip,
    assert_same_tree,
    bitset,
    classifier,
    leaf,
    mutations,
    numeric_package,
    random_tree,
    rank_directory,
    regressor,
    reloaded,
    sections,
    with_crc,
)

# ---------------------------------------------------------------- fuzzing


FUZZ_FEATURES = 4
FUZZ_BASES = (
    bonsai.dumps(
        classifier(
            [random_tree(np.random.default_rng(i), 5, n_outputs=3, thresholds=np.arange(1000) / 7) for i in range(3)]
        )
    ),
    bonsai.dumps(
        regressor(
            [random_tree(np.random.default_rng(i), 4, thresholds=F32_REWRITTEN, values=[1.0, -0.0]) for i in range(3)]
            + [leaf(2.0)]
        )
    ),
)


def test_fuzz_bases_cover_every_encoding():
    tags = {(name, sections(base)[name][0]) for base in FUZZ_BASES for name in ("feature", "threshold", "leaf")}
    assert {t for _, t in tags} == {bonsai.RAW, bonsai.DICTIONARY, bonsai.FLOAT32_REWRITE}


def load_or_refuse(data: bytes):
    """The trees, or None when refused with a named error; anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatVersionWarning)
        try:
            trees = bonsai.loads(data, WHERE, FUZZ_FEATURES)
        except errors.PackageError as e:
            assert e.path == WHERE
            event(type(e).__name__)
            return None
    assert trees and all(isinstance(t, ir.Tree) for t in trees)
    event("loaded")
    try:
        model = (classifier if trees[0].n_outputs > 1 else regressor)(list(trees), n_features=FUZZ_FEATURES)
    except errors.CrossformError:
        return trees
    # whatever was accepted is a model: it writes and reads back to the same trees
    for a, b in zip(trees, reloaded(model).trees, strict=True):
        assert_same_tree(a, b)
    return trees


@FUZZ
@given(st.sampled_from(FUZZ_BASES).flatmap(lambda base: st.tuples(st.just(base), mutations(base))))
def test_mutations_with_the_old_checksum_are_refused(case):
    base, mutated = case
    if mutated == base:
        assert load_or_refuse(mutated) is not None
    else:
        assert load_or_refuse(mutated) is None


@FUZZ
@given(st.sampled_from(FUZZ_BASES).flatmap(lambda base: mutations(base[:-4]).map(with_crc)))
def test_mutations_with_a_fresh_checksum_load_or_are_refused(mutated):
    load_or_refuse(mutated)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(min_size=26, max_size=400).map(lambda b: bonsai.MAGIC + b),
        st.binary(min_size=22, max_size=400).map(lambda b: bonsai.MAGIC + b"\x00\x01\x00\x00" + b),
    )
)
def test_random_bytes_are_refused(data):
    assert load_or_refuse(data) is None


@st.composite
def random_sections(draw) -> bytes:
    """A header and tree offsets that hold, a random structure with its true rank directory, random columns:
    the checks past the offsets see random input."""
    sizes = draw(st.lists(st.integers(0, 6).map(lambda s: 2 * s + 1), min_size=1, max_size=5))
    n = sum(sizes)
    bits = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    head = HEADER.pack(bonsai.MAGIC, 1, draw(st.integers(0, 2)), 0, len(sizes), draw(st.integers(1, 3)), n)
    columns = draw(st.binary(max_size=300))
    return with_crc(head + offsets.astype(">u4").tobytes() + bitset(bits) + rank_directory(bits) + columns)


@FUZZ
@given(
    st.one_of(
        random_sections(),
        st.tuples(st.integers(1, 40), st.integers(1, 4), st.integers(1, 80), st.binary(max_size=300)).map(
            lambda c: with_crc(HEADER.pack(bonsai.MAGIC, 1, 0, 0, *c[:3]) + c[3])
        ),
    )
)
def test_random_sections_after_a_valid_header(data):
    load_or_refuse(data)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 3))
def test_random_forests_round_trip(seed, n_trees, n_outputs):
    rng = np.random.default_rng(seed)
    pool = ODD_THRESHOLDS if seed % 3 == 0 else list(F32_REWRITTEN) if seed % 3 == 1 else None
    trees = [
        random_tree(
            rng, int(rng.integers(0, 25)), n_outputs=n_outputs, thresholds=pool, values=[0.0, -0.0, 1e-300, 0.1, 7.0]
        )
        for _ in range(n_trees)
    ]
    model = classifier(trees) if n_outputs > 1 else regressor(trees)
    assert_round_trip(numeric_package(model), rng)
