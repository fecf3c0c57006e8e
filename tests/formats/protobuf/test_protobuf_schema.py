"""The protobuf schema: committed generated code matches the .proto, and no released field breaks.

proto/descriptors/ keeps a FileDescriptorSet of every released schema version
(protoc --descriptor_set_out --include_imports). A field number may never be
reused or change type or label, and a field, message, enum or enum value may
only disappear with its number reserved.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from crossform.exporters import protobuf as P
from crossform.exporters._versions import FEATURES_SINCE
from crossform.v1 import package_pb2
from helpers.paths import REPO

ROOT = REPO
PROTO_ROOT = ROOT / "proto"
PROTO = "crossform/v1/package.proto"
RELEASED = sorted((PROTO_ROOT / "descriptors").glob("crossform-v1-*.binpb"))

needs_protoc = pytest.mark.skipif(
    importlib.util.find_spec("grpc_tools") is None,
    reason="grpc_tools (the pinned protoc, crossform[dev]) is not installed",
)


def protoc(*args, cwd=None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- drift


@needs_protoc
def test_generated_code_is_what_the_pinned_protoc_makes(tmp_path):
    protoc(f"-I{PROTO_ROOT}", f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", PROTO_ROOT / PROTO)
    for name in ("package_pb2.py", "package_pb2.pyi"):
        committed = ROOT / "src" / "crossform" / "v1" / name
        fresh = tmp_path / "crossform" / "v1" / name
        assert fresh.read_bytes() == committed.read_bytes(), (
            f"{committed} is not what protoc makes from {PROTO}; regenerate it (proto/README.md)"
        )


# ---------------------------------------------------------------- breaking changes


def _reserved(ranges) -> set:
    return {n for r in ranges for n in range(r.start, r.end)}


def _messages(prefix: str, messages) -> dict:
    out = {}
    for msg in messages:
        name = f"{prefix}.{msg.name}"
        out[name] = msg
        out.update(_messages(name, msg.nested_type))
    return out


def _enums(prefix: str, file_or_msg) -> dict:
    out = {f"{prefix}.{e.name}": e for e in file_or_msg.enum_type}
    for msg in getattr(file_or_msg, "message_type", None) or file_or_msg.nested_type:
        out.update(_enums(f"{prefix}.{msg.name}", msg))
    return out


def _index(files) -> tuple:
    messages, enums = {}, {}
    for f in files:
        messages.update(_messages(f".{f.package}", f.message_type))
        enums.update(_enums(f".{f.package}", f))
    return messages, enums


def breaking_changes(old_files, new_files) -> list:
    """What ``new_files`` breaks of ``old_files`` (FileDescriptorProto lists), as text."""
    old_messages, old_enums = _index(old_files)
    new_messages, new_enums = _index(new_files)
    found = []
    for name, old in old_messages.items():
        new = new_messages.get(name)
        if new is None:
            found.append(f"message {name} removed")
            continue
        fields = {f.number: f for f in new.field}
        reserved = _reserved(new.reserved_range)
        for field in old.field:
            now = fields.get(field.number)
            if now is None:
                if field.number not in reserved:
                    found.append(f"{name}.{field.name} = {field.number} removed without reserving its number")
            elif (now.type, now.type_name, now.label) != (field.type, field.type_name, field.label):
                found.append(f"{name}.{field.name} = {field.number} changed from {_shown(field)} to {_shown(now)}")
            elif now.HasField("oneof_index") != field.HasField("oneof_index"):
                found.append(f"{name}.{field.name} = {field.number} moved into or out of a oneof")
        for number in sorted(_reserved(old.reserved_range) & set(fields)):
            found.append(f"{name}: reserved number {number} is in use by {fields[number].name}")
    for name, old in old_enums.items():
        new = new_enums.get(name)
        if new is None:
            found.append(f"enum {name} removed")
            continue
        numbers = {v.number for v in new.value}
        reserved = _reserved_enum(new.reserved_range)
        for value in old.value:
            if value.number not in numbers and value.number not in reserved:
                found.append(f"{name}.{value.name} = {value.number} removed without reserving its number")
        for number in sorted(_reserved_enum(old.reserved_range) & numbers):
            found.append(f"{name}: reserved number {number} is in use")
    return found


def _reserved_enum(ranges) -> set:
    return {n for r in ranges for n in range(r.start, r.end + 1)}  # enum ranges include their end


def _shown(field) -> str:
    kind = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)
    label = descriptor_pb2.FieldDescriptorProto.Label.Name(field.label)
    return f"{label} {kind}{' ' + field.type_name if field.type_name else ''}"


def descriptor_set(path: Path) -> list:
    return list(descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file)


def current() -> list:
    proto = descriptor_pb2.FileDescriptorProto()
    package_pb2.DESCRIPTOR.CopyToProto(proto)
    return [proto]


def test_every_released_schema_is_kept():
    assert [p.name for p in RELEASED] == [
        "crossform-v1-1.0.binpb",
        "crossform-v1-1.1.binpb",
        "crossform-v1-1.2.binpb",
    ]
    for released in RELEASED:
        assert [f.name for f in descriptor_set(released)] == [PROTO]


@pytest.mark.parametrize("released", RELEASED, ids=[p.stem for p in RELEASED])
def test_the_current_schema_breaks_no_released_one(released):
    assert breaking_changes(descriptor_set(released), current()) == []


BROKEN = {
    "type changed": (
        "  repeated double threshold = 4;",
        "  repeated float threshold = 4;",
        ".crossform.v1.Tree.threshold = 4 changed from LABEL_REPEATED TYPE_DOUBLE to LABEL_REPEATED TYPE_FLOAT",
    ),
    "number reused": (
        "  repeated double leaf_value = 6;",
        "  repeated double leaf_value = 7;\n  repeated string notes = 6;",
        ".crossform.v1.Tree.leaf_value = 6 changed from LABEL_REPEATED TYPE_DOUBLE to LABEL_REPEATED TYPE_STRING",
    ),
    "removed without reserved": (
        "  optional string owner = 4;\n",
        "",
        ".crossform.v1.Package.owner = 4 removed without reserving its number",
    ),
    "enum value removed": (
        "    POST_TRANSFORM_SOFTMAX = 3;      // only with two or more outputs\n",
        "",
        ".crossform.v1.TreeEnsemble.PostTransform.POST_TRANSFORM_SOFTMAX = 3 removed",
    ),
    "label changed": (
        "  optional string owner = 4;",
        "  repeated string owner = 4;",
        ".crossform.v1.Package.owner = 4 changed from LABEL_OPTIONAL TYPE_STRING to LABEL_REPEATED",
    ),
}


@needs_protoc
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_check_catches_a_deliberately_broken_schema(tmp_path, name):
    old, new, expected = BROKEN[name]
    text = (PROTO_ROOT / PROTO).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    target = tmp_path / "proto" / PROTO
    target.parent.mkdir(parents=True)
    target.write_text(text.replace(old, new), encoding="utf-8")
    out = tmp_path / "broken.binpb"
    protoc(f"-I{tmp_path / 'proto'}", f"--descriptor_set_out={out}", "--include_imports", target)
    found = breaking_changes(descriptor_set(RELEASED[0]), descriptor_set(out))
    assert any(expected in line for line in found), found


@needs_protoc
def test_the_check_accepts_a_removal_with_its_number_reserved(tmp_path):
    text = (PROTO_ROOT / PROTO).read_text(encoding="utf-8")
    target = tmp_path / "proto" / PROTO
    target.parent.mkdir(parents=True)
    target.write_text(
        text.replace(
            "  optional string owner = 4;", '  reserved 4;\n  reserved "owner";\n  repeated string labels = 12;'
        ),
        encoding="utf-8",
    )
    out = tmp_path / "ok.binpb"
    protoc(f"-I{tmp_path / 'proto'}", f"--descriptor_set_out={out}", "--include_imports", target)
    assert breaking_changes(descriptor_set(RELEASED[0]), descriptor_set(out)) == []


def test_the_released_descriptor_set_is_not_an_empty_shell():
    messages, enums = _index(descriptor_set(RELEASED[0]))
    assert ".crossform.v1.Tree" in messages and ".crossform.v1.TreeEnsemble.Aggregation" in enums


# ---------------------------------------------------------------- the members 1.0 lacks


@needs_protoc
def test_the_current_version_is_the_current_schema(tmp_path):
    """A schema change is a new format version: the snapshot of VERSION is what protoc makes now."""
    out = tmp_path / "now.binpb"
    protoc(f"-I{PROTO_ROOT}", f"--descriptor_set_out={out}", "--include_imports", PROTO_ROOT / PROTO)
    snapshot = PROTO_ROOT / "descriptors" / f"crossform-v1-{P.VERSION}.binpb"
    assert out.read_bytes() == snapshot.read_bytes(), (
        f"{PROTO} is not the schema of protobuf {P.VERSION}; a changed schema is a new version (proto/README.md)"
    )


# Where a 1.x reader requires one member to be set: a field 1.0 lacks may only be a new member
# of these, so that a 1.0 reader, dropping it, finds the oneof unset and refuses the file.
REQUIRED_ONEOFS = {".crossform.v1.Encoder": "encoder", ".crossform.v1.Model": "model"}


def _through_old_fields(old_messages: dict, new_messages: dict) -> set:
    """The messages reached from Package through fields 1.0 already had."""
    seen, todo = set(), [".crossform.v1.Package"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        old_numbers = {f.number for f in old_messages[name].field} if name in old_messages else set()
        todo.extend(
            f.type_name for f in new_messages[name].field if f.number in old_numbers and f.type_name in new_messages
        )
    return seen


def test_what_1_0_lacks_sits_where_a_1_0_reader_refuses_it():
    old_messages, _ = _index(descriptor_set(RELEASED[0]))
    new_messages, _ = _index(current())
    added = []
    for name, msg in new_messages.items():
        if name not in old_messages:
            continue
        old_numbers = {f.number for f in old_messages[name].field}
        for field in msg.field:
            if field.number in old_numbers:
                continue
            oneof = msg.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None
            assert REQUIRED_ONEOFS.get(name) == oneof, f"{name}.{field.name} is a new field a 1.0 reader would drop"
            added.append(f"{name[1:]}.{field.name}")
    assert sorted(added) == sorted(P.MEMBER_FEATURES), "MEMBER_FEATURES must list every member added after 1.0"
    # and a new message is reached only through them, never through a field 1.0 had
    assert _through_old_fields(old_messages, new_messages) <= set(old_messages)


_NO_MESSAGE = descriptor_pb2.DescriptorProto()


def test_the_members_1_0_lacks_and_features_since_name_the_same_features():
    """A file records the version FEATURES_SINCE gives its features, and sets the members its
    features are written through: every member 1.0 lacks stands for features FEATURES_SINCE dates
    after 1.0 in protobuf, and every such feature has its member, so the two never disagree."""
    dated_later = {
        feature
        for feature, since in FEATURES_SINCE.items()
        if P.rules.version_key(since.get(P.NAME, P.LAYOUT_VERSION)) > P.rules.version_key(P.LAYOUT_VERSION)
    }
    for member, features in P.MEMBER_FEATURES.items():
        assert features and set(features) <= dated_later, member
        # the member came with the first version holding any of its features
        first = min((FEATURES_SINCE[f][P.NAME] for f in features), key=P.rules.version_key)
        assert P.member_version(member) == first, member
    assert set().union(*P.MEMBER_FEATURES.values()) == dated_later


# Values added to enums 1.0 already has. A 1.0 reader refuses any of them as a value it does not
# know (ProtobufEnumError), and this reader accepts them only inside a 1.1 member, so they are
# safe only while they stay listed here with where they may appear.
NEW_ENUM_VALUES = {".crossform.v1.TreeEnsemble.PostTransform": {"POST_TRANSFORM_ISOLATION", "POST_TRANSFORM_EXP"}}


def test_values_added_to_1_0_enums_are_the_listed_ones():
    _, old_enums = _index(descriptor_set(RELEASED[0]))
    _, new_enums = _index(current())
    added = {}
    for name, old in old_enums.items():
        values = {v.name for v in new_enums[name].value} - {v.name for v in old.value}
        if values:
            added[name] = values
    assert added == NEW_ENUM_VALUES


def test_the_isolation_and_exp_transforms_are_refused_outside_tree_ensemble_with_rules():
    assert set(P.PLAIN_POST_TRANSFORMS) == set(P.POST_TRANSFORMS) - {"isolation", "exp"}
    assert P.POST_TRANSFORMS["isolation"] == package_pb2.TreeEnsemble.POST_TRANSFORM_ISOLATION
    assert P.POST_TRANSFORMS["exp"] == package_pb2.TreeEnsemble.POST_TRANSFORM_EXP


def _encoder_members(files) -> dict:
    messages, _ = _index(files)
    return {f.name: (f.number, f.type_name) for f in messages[".crossform.v1.Encoder"].field}


def test_refuse_missing_is_a_1_1_member_of_encoders_oneof_and_not_in_1_0():
    """The refuse-missing encoder (crossform 0.5.0) is in 1.1, which is unreleased until 0.5.0
    ships: its snapshot has it, 1.0's (released) does not, so a 1.0 reader drops it whole."""
    old, snapshot = descriptor_set(RELEASED[0]), descriptor_set(PROTO_ROOT / "descriptors" / "crossform-v1-1.1.binpb")
    assert "refuse_missing" not in _encoder_members(old)
    assert _encoder_members(old).keys() == {"fill_missing", "categorical_encoding", "scale"}
    for files in (snapshot, current()):
        assert _encoder_members(files)["refuse_missing"] == (7, ".crossform.v1.RefuseMissing")
        messages, _ = _index(files)
        fields = {f.name: (f.number, f.type_name) for f in messages[".crossform.v1.RefuseMissing"].field}
        assert fields == {"features": (1, ""), "outputs": (2, ""), "kinds": (3, ".crossform.v1.Field.Kind")}
    assert P.member_version("crossform.v1.Encoder.refuse_missing") == "1.1"


def test_number_category_is_a_1_2_member_of_encoders_oneof_and_not_in_1_1():
    """The number-category encoder (numeric categories) is in 1.2: its snapshot has it as member
    20, 1.1's does not, so a 1.1 reader drops it whole and finds the oneof unset."""
    older = descriptor_set(PROTO_ROOT / "descriptors" / "crossform-v1-1.1.binpb")
    snapshot = descriptor_set(PROTO_ROOT / "descriptors" / "crossform-v1-1.2.binpb")
    assert "number_category" not in _encoder_members(older)
    for files in (snapshot, current()):
        assert _encoder_members(files)["number_category"] == (20, ".crossform.v1.NumberCategory")
    assert P.member_version("crossform.v1.Encoder.number_category") == "1.2" == P.VERSION
