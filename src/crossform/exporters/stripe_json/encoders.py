"""stripe-json's encoder files: for each encoderType, the document written, the document read
back, and the schema both are held to. A new encoder kind is one writer, one reader and one
entry in ENCODERS here (with its schema in schemas/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ... import ir
from ...errors import IRValidationError
from .. import _json


class EncoderFile(NamedTuple):
    schema: str  # the JSON Schema of the encoder's file, in schemas/
    write: Callable  # encoder -> its document
    read: Callable  # its document, checked against the schema -> the encoder


# ---------------------------------------------------------------- written


def _fill_missing_doc(enc: ir.FillMissing) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs), "values": list(enc.values)}


def _categorical_encoding_doc(enc: ir.CategoricalEncoding) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "encodings": {
            name: dict(zip(categories, codes.tolist()))
            for name, categories, codes in zip(enc.features, enc.categories, enc.codes)
        },
        "missing": {
            name: "unknown" if code is None else _json.encode_float(code)
            for name, code in zip(enc.features, enc.missing_codes)
        },
        "unknown": "error" if enc.unknown_code is None else _json.encode_float(enc.unknown_code),
    }


def _scaler_doc(enc: ir.Scale) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "mean": enc.offset.tolist(),
        "scale": enc.scale.tolist(),
    }


def _affine_doc(enc: ir.Affine) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "scale": enc.scale.tolist(),
        "offset": enc.offset.tolist(),
    }


def _missing_indicator_doc(enc: ir.MissingIndicator) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs), "types": list(enc.kinds_in)}


def _refuse_missing_doc(enc: ir.RefuseMissing) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs), "types": list(enc.kinds_in)}


def _one_hot_doc(enc: ir.OneHot) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "widths": dict(zip(enc.features, enc.widths)),
        "columns": {
            name: dict(zip(categories, columns.tolist()))
            for name, categories, columns in zip(enc.features, enc.categories, enc.columns)
        },
        "missing": {
            name: "unknown" if column is None else column for name, column in zip(enc.features, enc.missing_columns)
        },
        "unknown": dict(zip(enc.features, enc.unknown)),
    }


def _number_category_doc(enc: ir.NumberCategory) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "values": {name: values.tolist() for name, values in zip(enc.features, enc.values)},
        "categories": {name: list(categories) for name, categories in zip(enc.features, enc.categories)},
        "unknown": enc.unknown,
    }


def _binning_doc(enc: ir.Binning) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "edges": {name: edges.tolist() for name, edges in zip(enc.features, enc.edges)},
    }


def _product_doc(enc: ir.Product) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "factors": [[enc.features[i] for i in term] for term in enc.factors],
    }


def _projection_doc(enc: ir.Projection) -> dict:
    doc = {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "centring": enc.centring,
        "mean": enc.mean.tolist(),
        "components": enc.components.tolist(),
    }
    if enc.divisors is not None:
        doc["divisors"] = enc.divisors.tolist()
    return doc


# ---------------------------------------------------------------- read


def _integer_code_doc(enc: ir.IntegerCode) -> dict:
    return {"features": list(enc.features), "outputs": list(enc.outputs)}


def _missing_band_doc(enc: ir.MissingBand) -> dict:
    return {
        "features": list(enc.features),
        "outputs": list(enc.outputs),
        "low": dict(zip(enc.features, enc.low.tolist())),
        "high": dict(zip(enc.features, enc.high.tolist())),
    }


def _fill_missing(doc: dict) -> ir.FillMissing:
    return ir.FillMissing(doc["features"], doc["values"], doc["outputs"])


def _categorical_encoding(doc: dict) -> ir.CategoricalEncoding:
    features = doc["features"]
    for key in ("encodings", "missing"):
        _per_feature(doc, key, features)
    encodings = [doc["encodings"][f] for f in features]
    missing = [None if doc["missing"][f] == "unknown" else _json.decode_float(doc["missing"][f]) for f in features]
    unknown = None if doc["unknown"] == "error" else _json.decode_float(doc["unknown"])
    return ir.CategoricalEncoding(
        features,
        tuple(tuple(e) for e in encodings),
        tuple(list(e.values()) for e in encodings),
        tuple(missing),
        unknown,
        doc["outputs"],
    )


def _scaler(doc: dict) -> ir.Scale:
    return ir.Scale(doc["features"], doc["mean"], doc["scale"], doc["outputs"])


def _affine(doc: dict) -> ir.Affine:
    return ir.Affine(doc["features"], doc["scale"], doc["offset"], doc["outputs"])


def _missing_indicator(doc: dict) -> ir.MissingIndicator:
    return ir.MissingIndicator(doc["features"], doc["types"], doc["outputs"])


def _refuse_missing(doc: dict) -> ir.RefuseMissing:
    return ir.RefuseMissing(doc["features"], doc["types"], doc["outputs"])


def _one_hot(doc: dict) -> ir.OneHot:
    features = doc["features"]
    for key in ("widths", "columns", "missing", "unknown"):
        _per_feature(doc, key, features)
    return ir.OneHot(
        features,
        tuple(tuple(doc["columns"][f]) for f in features),
        tuple(list(doc["columns"][f].values()) for f in features),
        tuple(doc["widths"][f] for f in features),
        tuple(None if doc["missing"][f] == "unknown" else doc["missing"][f] for f in features),
        tuple(doc["unknown"][f] for f in features),
        doc["outputs"],
    )


def _number_category(doc: dict) -> ir.NumberCategory:
    features = doc["features"]
    for key in ("values", "categories"):
        _per_feature(doc, key, features)
    return ir.NumberCategory(
        features,
        tuple(doc["values"][f] for f in features),
        tuple(doc["categories"][f] for f in features),
        doc["unknown"],
        doc["outputs"],
    )


def _binning(doc: dict) -> ir.Binning:
    features = doc["features"]
    _per_feature(doc, "edges", features)
    return ir.Binning(features, tuple(doc["edges"][f] for f in features), doc["outputs"])


def _product(doc: dict) -> ir.Product:
    features = doc["features"]
    position = {name: i for i, name in enumerate(features)}
    for term in doc["factors"]:
        for name in term:
            if name not in position:
                raise IRValidationError(f"The 'factors' lists must name features {features}. Got {name!r} instead.")
    return ir.Product(features, tuple(tuple(position[n] for n in term) for term in doc["factors"]), doc["outputs"])


def _integer_code(doc: dict) -> ir.IntegerCode:
    return ir.IntegerCode(doc["features"], doc["outputs"])


def _missing_band(doc: dict) -> ir.MissingBand:
    features = doc["features"]
    _per_feature(doc, "low", features)
    _per_feature(doc, "high", features)
    return ir.MissingBand(
        features, [doc["low"][f] for f in features], [doc["high"][f] for f in features], doc["outputs"]
    )


def _projection(doc: dict) -> ir.Projection:
    return ir.Projection(
        doc["features"],
        doc["mean"],
        doc["components"],
        doc["outputs"],
        doc.get("divisors"),
        doc["centring"],
    )


def _per_feature(doc: dict, key: str, features: list) -> None:
    if sorted(doc[key]) != sorted(features):
        raise IRValidationError(
            f"The {key!r} object must have one entry per feature {features}. "
            f"Got entries for {sorted(doc[key])} instead."
        )


# encoderType (the IR's encoder_type) -> its file
ENCODERS: dict[str, EncoderFile] = {
    "fill-missing": EncoderFile("stripe-json-fill-missing-1.schema.json", _fill_missing_doc, _fill_missing),
    "label-encoder": EncoderFile(
        "stripe-json-label-encoder-1.schema.json", _categorical_encoding_doc, _categorical_encoding
    ),
    "standard-scaler": EncoderFile("stripe-json-standard-scaler-1.schema.json", _scaler_doc, _scaler),
    "affine": EncoderFile("stripe-json-affine-2.schema.json", _affine_doc, _affine),
    "missing-indicator": EncoderFile(
        "stripe-json-missing-indicator-2.schema.json", _missing_indicator_doc, _missing_indicator
    ),
    "one-hot": EncoderFile("stripe-json-one-hot-2.schema.json", _one_hot_doc, _one_hot),
    "refuse-missing": EncoderFile("stripe-json-refuse-missing-2.schema.json", _refuse_missing_doc, _refuse_missing),
    "binning": EncoderFile("stripe-json-binning-2.schema.json", _binning_doc, _binning),
    "integer-code": EncoderFile("stripe-json-integer-code-2.schema.json", _integer_code_doc, _integer_code),
    "missing-band": EncoderFile("stripe-json-missing-band-2.schema.json", _missing_band_doc, _missing_band),
    "number-category": EncoderFile("stripe-json-number-category-2.schema.json", _number_category_doc, _number_category),
    "product": EncoderFile("stripe-json-product-2.schema.json", _product_doc, _product),
    "projection": EncoderFile("stripe-json-projection-2.schema.json", _projection_doc, _projection),
}
