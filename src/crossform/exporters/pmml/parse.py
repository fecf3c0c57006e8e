"""The pmml reader's parse: the document's bytes to what the rebuild needs, trusting nothing.

A DOCTYPE or any entity is refused before anything else. The trees' Node lines, when they
are laid out as the writer lays them out, are cut out and read later by lines
(model_reader._lines_tree); the rest goes through expat, whose callbacks (:class:`_Reader`)
keep only what the rebuild needs. Any other layout is read all through expat
(:func:`_slow_parse`), which names what it meets.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Union
from xml.parsers import expat

import numpy as np

from ...errors import CrossformError, LimitExceededError, UnsupportedModelError, shown
from .. import _envelope, _json, _limits, _versions
from .rules import (
    BINNING,
    CODES,
    EXTENDER,
    HEADER_KEYS,
    INTEGER_CODE,
    MAX_NESTING,
    MAX_OUTPUTS,
    MAX_TREE_MODELS,
    MISSING_BAND,
    NAME,
    NAMESPACE,
    NUMBER_CATEGORY,
    OFF,
    ON,
    ONE_HOT,
    PMML_VERSION,
    PRODUCT,
    PROJECTION,
    TARGET,
    VERSION,
    WHERE,
    PmmlDecodeError,
    PmmlDoctypeError,
    PmmlHeaderError,
    PmmlNamespaceError,
    PmmlNumberError,
    PmmlStructureError,
    leaf_output,
)


class _Slow(Exception):
    """The fast reading of the trees met a line the writer does not write: read with expat."""


def sniff(source: Any) -> bool:
    """An XML document whose first bytes name our Header Extension (the writer puts it first)."""
    return (
        isinstance(source, bytes)
        and (source.startswith(b"<?xml") or source.startswith(b"<PMML"))
        and f'name="{_envelope.FORMAT_VERSION}"'.encode("ascii") in source[:4096]
    )


ELEMENTS = frozenset(
    (
        "PMML",
        "Header",
        "Extension",
        "DataDictionary",
        "DataField",
        "Value",
        "Interval",
        "TransformationDictionary",
        "DerivedField",
        "FieldRef",
        "MapValues",
        "FieldColumnPair",
        "InlineTable",
        "row",
        "in",
        "out",
        "Apply",
        "Constant",
        "MiningModel",
        "MiningSchema",
        "MiningField",
        "Output",
        "OutputField",
        "Segmentation",
        "Segment",
        "True",
        "CompoundPredicate",
        "SimplePredicate",
        "TreeModel",
        "Node",
        "ScoreDistribution",
        # 1.2
        "NormDiscrete",
        "RegressionModel",
        "RegressionTable",
        "NumericPredictor",
        "SimpleSetPredicate",
        "Array",
        # 1.3
        "Discretize",
        "DiscretizeBin",
    )
)
TEXT_ELEMENTS = frozenset(("Extension", "Constant", "in", "out", "Array"))


class _Stop(Exception):
    """read_version found what it wanted: stop parsing."""


def _refuse_doctype(where: str, parser) -> None:
    def doctype(*_):
        raise PmmlDoctypeError(
            where,
            f"line {parser.CurrentLineNumber}: a DOCTYPE declaration; crossform reads "
            "PMML without DTDs or entities and refuses the file before reading it",
        )

    def entity(name, *_):
        raise PmmlDoctypeError(
            where,
            f"line {parser.CurrentLineNumber}: an entity declaration ({shown(name)}); crossform never expands entities",
        )

    def external(context, base, system_id, public_id):
        raise PmmlDoctypeError(
            where,
            f"line {parser.CurrentLineNumber}: a reference to the external entity "
            f"{system_id!r}; crossform never reads outside the file",
        )

    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.SkippedEntityHandler = lambda name, is_param: entity(name)


def _parser(where: str):
    parser = expat.ParserCreate(namespace_separator=" ")
    _refuse_doctype(where, parser)
    parser.buffer_text = True
    return parser


def _expat_error(exc: expat.ExpatError, where: str) -> PmmlDecodeError:
    return PmmlDecodeError(
        where,
        f"expected well-formed XML; expat says {expat.ErrorString(exc.code)} at line {exc.lineno}, column {exc.offset}",
    )


def _check_size(source: Any, where: str) -> None:
    if not isinstance(source, (bytes, bytearray)):
        raise PmmlDecodeError(where, f"expected the bytes of a PMML document, found {type(source).__name__}")
    if len(source) > _limits.MAX_FILE_BYTES:
        raise LimitExceededError(where, f"expected at most {_limits.MAX_FILE_BYTES} bytes, found {len(source)}")


class _Tree:
    __slots__ = ("ids", "parent", "score", "default", "field", "op", "value", "dist", "stack")

    def __init__(self):
        self.ids, self.parent, self.score, self.default = [], [], [], []
        self.field, self.op, self.value, self.dist = [], [], [], []
        self.stack = []


class _Reader:
    """expat callbacks: what the rebuild needs, nothing else. The document is
    then written again and compared, so the reader only has to be sure of
    what it takes, not of what it skips."""

    def __init__(self, where: str, parser):
        self.where = where
        self.parser = parser
        self.stack: list = []
        self.text: Union[list, None] = None
        self.header: dict = {}
        self.header_done = False
        self.version: Union[str, None] = None
        self.newer = False
        self.unknown_header: list = []
        self.fields: list = []  # (name, optype)
        self.derived: list = []  # dicts
        self.segments: list = []  # (path: the ids of the Segments around it, id, _Tree or its Node lines)
        self.tables: list = []  # (path, targetCategory, intercept, [(field, coefficient)])
        self.leaf_outputs = False  # an OutputField with feature="entityId"
        self.multiple: Union[str, None] = None  # the top Segmentation's multipleModelMethod
        self.path: list = []  # ids of the open Segments
        self.tree: Union[_Tree, None] = None
        self.bodies: Union[Iterator, None] = None  # the trees' Node lines, cut out before expat (_parse)
        self.trees = 0
        self.nodes = 0
        self.root_seen = False

    # -- errors

    def at(self) -> str:
        path = "/".join(self.stack)
        return f"line {self.parser.CurrentLineNumber}, column {self.parser.CurrentColumnNumber} (/{path})"

    def structure(self, reason: str) -> PmmlStructureError:
        return PmmlStructureError(self.where, f"{self.at()}: {reason}")

    # -- events

    def start(self, tag: str, attrs: dict) -> None:
        uri, _, local = tag.rpartition(" ")
        if not self.root_seen:
            self.root_seen = True
            if local != "PMML" or uri != NAMESPACE:
                raise PmmlNamespaceError(
                    self.where,
                    f"expected the root <PMML> in namespace {NAMESPACE!r}, found "
                    f"<{local}> in {uri or 'no namespace'!r}",
                )
            if attrs.get("version") != PMML_VERSION:
                raise PmmlNamespaceError(
                    self.where, f"expected PMML version {PMML_VERSION!r}, found {attrs.get('version')!r}"
                )
        elif uri != NAMESPACE:
            raise UnsupportedModelError(
                f"{self.where}: {self.at()}: element <{local}> in namespace "
                f"{uri or 'none'!r} is not one crossform writes"
            )
        if local not in ELEMENTS:
            raise UnsupportedModelError(f"{self.where}: {self.at()}: element <{local}> is not one crossform writes")
        if len(self.stack) >= MAX_NESTING:
            raise LimitExceededError(self.where, f"{self.at()}: elements nested deeper than {MAX_NESTING}")
        self.stack.append(local)
        handler = getattr(self, "on_" + local, None)
        if handler is not None:
            handler(attrs)
        if local in TEXT_ELEMENTS:
            self.text = []

    def end(self, tag: str) -> None:
        local = self.stack[-1]
        handler = getattr(self, "off_" + local, None)
        if handler is not None:
            handler()
        self.stack.pop()
        self.text = None

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def taken(self) -> str:
        return "".join(self.text or ())

    # -- header

    def on_Extension(self, attrs: dict) -> None:
        self.ext = attrs

    def off_Extension(self) -> None:
        attrs, parent = self.ext, self.stack[-2]
        if parent == "Header":
            name = attrs.get("name")
            if attrs.get("extender") != EXTENDER or name is None:
                raise self.structure(f"expected Header Extensions with extender {EXTENDER!r} and a name")
            if name in self.header:
                raise PmmlHeaderError(
                    self.where, f"{self.at()}: expected the Extension {shown(name)} once, found it twice"
                )
            self.header[name] = self.taken() if name == _envelope.CHECKS else attrs.get("value")
        elif parent == "DerivedField":
            key = {
                CODES: "codes",
                ONE_HOT: "policy",
                NUMBER_CATEGORY: "numbers",
                BINNING: "bins",
                INTEGER_CODE: "integer",
                MISSING_BAND: "band",
                PRODUCT: "product",
                PROJECTION: "projection",
            }.get(attrs.get("name"))
            if key is not None:
                self.derived[-1][key] = attrs.get("value")

    def on_DataDictionary(self, attrs: dict) -> None:
        if not self.header_done:
            self.off_Header()

    def off_Header(self) -> None:
        if self.header_done:
            return
        self.header_done = True
        found = self.header.get(_envelope.FORMAT_VERSION)
        unknown = sorted(k for k in self.header if k not in HEADER_KEYS)
        self.version = found
        self.newer = _versions.check_version(NAME, VERSION, found, self.where, unknown)
        if unknown and not self.newer:
            raise PmmlHeaderError(
                self.where,
                f"expected only the Header Extensions of {NAME} {found}, found unknown {', '.join(map(repr, unknown))}",
            )
        self.unknown_header = unknown

    # -- fields and transformations

    def on_DataField(self, attrs: dict) -> None:
        if attrs.get("name") != TARGET:
            self.fields.append((attrs.get("name"), attrs.get("optype")))

    def on_DerivedField(self, attrs: dict) -> None:
        self.derived.append(
            {
                "name": attrs.get("name"),
                "display": attrs.get("displayName"),
                "type": attrs.get("dataType"),
                "optype": attrs.get("optype"),
                "kind": None,
                "function": None,
                "source": None,
                "missing": None,
                "default": None,
                "constants": [],
                "rows": [],
                "codes": None,
                "policy": None,
                "norm": None,
                "numbers": None,
                "bins": None,
                "integer": None,
                "band": None,
                "product": None,
                "projection": None,
            }
        )

    def _expression(self, kind: str) -> Union[dict, None]:
        if "DerivedField" not in self.stack:
            return None
        d = self.derived[-1]
        if d["kind"] is None:
            d["kind"] = kind
        return d

    def on_FieldRef(self, attrs: dict) -> None:
        d = self._expression("FieldRef")
        if d is not None and d["source"] is None:
            d["source"] = attrs.get("field")
            d["missing"] = attrs.get("mapMissingTo")

    def on_Apply(self, attrs: dict) -> None:
        d = self._expression("Apply")
        if d is not None and d["function"] is None:
            d["function"] = attrs.get("function")

    def on_MapValues(self, attrs: dict) -> None:
        d = self._expression("MapValues")
        if d is not None:
            d["missing"], d["default"] = attrs.get("mapMissingTo"), attrs.get("defaultValue")

    def on_Discretize(self, attrs: dict) -> None:
        d = self._expression("Discretize")
        if d is not None:
            d["source"], d["default"] = attrs.get("field"), attrs.get("defaultValue")

    def on_NormDiscrete(self, attrs: dict) -> None:
        d = self._expression("NormDiscrete")
        if d is not None:
            d["source"], d["norm"] = attrs.get("field"), attrs.get("value")

    def on_FieldColumnPair(self, attrs: dict) -> None:
        d = self._expression("MapValues")
        if d is not None:
            d["source"] = attrs.get("field")

    def off_Constant(self) -> None:
        d = self._expression("Apply")
        if d is not None:
            d["constants"].append(self.taken())

    def off_in(self) -> None:
        d = self._expression("MapValues")
        if d is not None:
            d["rows"].append([self.taken(), None])

    def off_out(self) -> None:
        d = self._expression("MapValues")
        if d is not None and d["rows"]:
            d["rows"][-1][1] = self.taken()

    # -- the model

    def on_OutputField(self, attrs: dict) -> None:
        self.leaf_outputs = self.leaf_outputs or attrs.get("feature") == "entityId"

    def on_Segmentation(self, attrs: dict) -> None:
        if self.multiple is None:
            self.multiple = attrs.get("multipleModelMethod")

    def on_Segment(self, attrs: dict) -> None:
        self.path.append(attrs.get("id"))

    def off_Segment(self) -> None:
        self.path.pop()

    def on_TreeModel(self, attrs: dict) -> None:
        self.trees += 1
        if self.trees > MAX_TREE_MODELS + MAX_OUTPUTS:
            raise LimitExceededError(self.where, f"{self.at()}: expected at most {MAX_TREE_MODELS} TreeModels")
        if not self.path:
            raise self.structure("expected <TreeModel> inside a Segment")
        tree = _Tree() if self.bodies is None else next(self.bodies, None)
        if tree is None:
            raise _Slow()  # more TreeModels than bodies were cut out: read it all with expat
        self.tree = tree if isinstance(tree, _Tree) else None
        self.segments.append((tuple(self.path[:-1]), self.path[-1], tree))

    def off_TreeModel(self) -> None:
        self.tree = None

    def on_RegressionTable(self, attrs: dict) -> None:
        self.tables.append((tuple(self.path), attrs.get("targetCategory"), attrs.get("intercept"), []))

    def on_NumericPredictor(self, attrs: dict) -> None:
        if not self.tables or self.stack[-2] != "RegressionTable":
            raise self.structure("expected <NumericPredictor> inside a RegressionTable")
        self.tables[-1][3].append((attrs.get("name"), attrs.get("coefficient")))

    def on_Node(self, attrs: dict) -> None:
        tree = self.tree
        if tree is None:
            raise self.structure("expected <Node> inside a Segment's TreeModel")
        self.nodes += 1
        if self.nodes > _limits.MAX_NODES:
            raise LimitExceededError(self.where, f"{self.at()}: expected at most {_limits.MAX_NODES} nodes")
        tree.parent.append(tree.stack[-1] if tree.stack else -1)
        tree.stack.append(len(tree.ids))
        tree.ids.append(attrs.get("id"))
        tree.score.append(attrs.get("score"))
        tree.default.append(attrs.get("defaultChild"))
        tree.field.append(None)
        tree.op.append(None)
        tree.value.append(None)
        tree.dist.append(None)

    def off_Node(self) -> None:
        self.tree.stack.pop()

    def on_SimplePredicate(self, attrs: dict) -> None:
        if self.stack[-2] == "Node":
            tree = self.tree
            i = tree.stack[-1]
            tree.field[i] = attrs.get("field")
            tree.op[i] = attrs.get("operator")
            tree.value[i] = attrs.get("value")

    def on_SimpleSetPredicate(self, attrs: dict) -> None:
        if self.stack[-2] != "Node":
            raise self.structure("expected <SimpleSetPredicate> as a Node's predicate")
        tree = self.tree
        i = tree.stack[-1]
        tree.field[i] = attrs.get("field")
        tree.op[i] = attrs.get("booleanOperator")

    def off_Array(self) -> None:
        if self.stack[-2] != "SimpleSetPredicate":
            raise self.structure("expected <Array> inside a SimpleSetPredicate")
        tree = self.tree
        tree.value[tree.stack[-1]] = self.taken()

    def on_ScoreDistribution(self, attrs: dict) -> None:
        tree = self.tree
        if tree is None or not tree.stack:
            raise self.structure("expected <ScoreDistribution> inside a Node")
        i = tree.stack[-1]
        if tree.dist[i] is None:
            tree.dist[i] = []
        tree.dist[i].append((attrs.get("value"), attrs.get("recordCount")))


def _expat_parse(source: bytes, where: str, final: bool = True, bodies: Union[Iterator, None] = None) -> _Reader:
    """``bodies``: the trees' Node lines, which _parse cut out of ``source``, in order."""
    parser = _parser(where)
    reader = _Reader(where, parser)
    reader.bodies = bodies
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    try:
        parser.Parse(source, final)
    except expat.ExpatError as exc:
        raise _expat_error(exc, where) from None
    except (CrossformError, _Slow):
        raise
    except Exception as exc:  # a handler meeting something it did not expect
        raise PmmlStructureError(
            where, f"{reader.at()}: expected the PMML crossform writes; {type(exc).__name__}: {exc}"
        ) from None
    if not reader.header_done:
        reader.off_Header()
    return reader


TREE_HEAD = b"<TreeModel "  # the writer ends a TreeModel's first line after its MiningSchema
TREE_END = b"</TreeModel>\n"


def _parse(source: bytes, where: str) -> _Reader:
    """The trees' Node lines, when they are laid out as the writer lays them out,
    by lines (_lines_tree); everything else through expat, with the Node lines
    cut out. Any other layout is read all through expat (_slow_parse), which
    names what it meets; either way the bytes are then compared with the writer's."""
    _check_size(source, where)
    pieces, bodies = [], []
    at = 0
    while True:
        start = source.find(TREE_HEAD, at)
        if start < 0:
            break
        head_end = source.find(b"\n", start) + 1
        end = source.find(TREE_END, head_end) if head_end else -1
        if end < 0:
            raise _Slow()
        pieces.append(source[at:head_end])
        bodies.append(source[head_end:end])
        at = end
    pieces.append(source[at:])
    try:
        texts = iter([body.decode("utf-8") for body in bodies])
    except UnicodeDecodeError:
        raise _Slow() from None
    reader = _expat_parse(b"".join(pieces), where, bodies=texts)
    if next(texts, None) is not None:
        raise _Slow()  # fewer TreeModels than cut-out bodies: the cut met something else
    return reader


def _slow_parse(source: bytes, where: str) -> _Reader:
    return _expat_parse(source, where)


LEAF_OUTPUT = f'<OutputField name="{leaf_output(0)}" '.encode()


def properties(source: bytes, where: str = WHERE) -> dict:
    """What ``crossform info`` shows besides the package: whether the file has leaf outputs."""
    _check_size(source, where)
    found = source.find(b"<Segmentation ")
    head = source[:found] if found >= 0 else source
    return {"leaves": ON if LEAF_OUTPUT in head else OFF}


def read_version(source: bytes, where: str = WHERE) -> str:
    """The recorded format version, from the Header: parsing stops there."""
    _check_size(source, where)
    parser = _parser(where)
    found = {}

    def start(tag, attrs):
        local = tag.rpartition(" ")[2]
        if local == "Extension" and attrs.get("name") == _envelope.FORMAT_VERSION:
            found["version"] = attrs.get("value")
            raise _Stop()
        if local in ("DataDictionary", "MiningModel"):
            raise _Stop()

    parser.StartElementHandler = start
    try:
        for offset in range(0, max(len(source), 1), 1 << 16):
            parser.Parse(source[offset : offset + (1 << 16)], offset + (1 << 16) >= len(source))
    except _Stop:
        pass
    except expat.ExpatError as exc:
        raise _expat_error(exc, where) from None
    version = found.get("version")
    _versions.parse_version(version, where)
    return version


# ---------------------------------------------------------------- values: numbers and Header JSON


def _number(text: Any, what: str, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise PmmlNumberError(where, f"expected a number for {what}, found {shown(text)}") from None
    if not math.isfinite(value):
        raise PmmlNumberError(where, f"expected a finite number for {what}, found {shown(text)}")
    return value


def _floats(texts: Any, what: str, where: str, infinity: Union[str, None] = None) -> np.ndarray:
    """Finite doubles; with ``infinity``, that text is +inf."""
    try:
        values = np.array([math.inf if t == infinity else float(t) for t in texts], dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or not (np.isfinite(values) | (values == math.inf if infinity else False)).all():
        for text in texts:
            if text != infinity:
                _number(text, what, where)  # names the first that is not a finite number
    return values


def _header_json(header: dict, key: str, where: str, default: Any = None) -> Any:
    if key not in header:
        if default is not None:
            return default
        raise PmmlHeaderError(where, f"expected the Header Extension {shown(key)}, found none")
    label = f"{where}#Header/Extension[{key}]"
    text = header[key]
    if text is None:
        raise PmmlHeaderError(where, f"expected a value in the Header Extension {shown(key)}, found none")
    return _json.parse(text.encode("utf-8"), label)
