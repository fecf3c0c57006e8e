"""The typed format protocol: what the registry hands out, its defaults, and the adapter that
keeps module-style plug-ins (the convention before the protocol) working."""

from __future__ import annotations

import types

import pytest

from crossform import exporters
from crossform.exporters import Files, Format, ModuleFormat, as_format, stripe_json
from helpers.packages import small_package


@pytest.mark.parametrize("name", exporters.BUILTIN)
def test_every_builtin_format_is_a_format(name):
    fmt = exporters.get_format(name.rsplit(".", 1)[1].replace("_", "-"))
    assert isinstance(fmt, Format) and fmt.LAYOUT in ("directory", "file")
    assert fmt.TELLS_VERSION  # every built-in reads its version without trusting the rest


def _module_format() -> types.ModuleType:
    """A file format written to the module convention: stripe-json's files in one JSON document."""
    module = types.ModuleType("legacy_bundle")
    module.NAME, module.VERSION, module.LAYOUT, module.RUNTIMES = "legacy-bundle", "1.0", "file", ("reference",)
    seen = {}

    def dumps(package):
        return repr(sorted((k, v.hex()) for k, v in stripe_json.dumps(package).items())).encode()

    def loads(source, where="<legacy>"):
        seen["where"] = where
        import ast

        pairs = ast.literal_eval(source.decode())
        return stripe_json.loads(Files.from_mapping({k: bytes.fromhex(v) for k, v in pairs}, label=where))

    module.dumps, module.loads, module.sniff = dumps, loads, lambda source: source.startswith(b"[(")
    module.needs = lambda package: "a legacy kind"
    module.seen = seen
    return module


def test_a_module_plugin_is_wrapped_with_the_protocol_defaults():
    module = _module_format()
    fmt = as_format(module)
    assert isinstance(fmt, ModuleFormat) and fmt.NAME == "legacy-bundle"
    assert (fmt.EXTENSIONS, fmt.OLDER, dict(fmt.OPTIONS), dict(fmt.VARIANTS)) == ((), (), {}, {})
    assert not fmt.TELLS_VERSION  # no read_version: compat judges it by loading
    package = small_package()
    data = fmt.dumps(package)
    assert fmt.sniff(data) and fmt.loads(data, where="x.bundle").id == package.id
    assert module.seen["where"] == "x.bundle"  # the path reaches a loads that takes where
    assert fmt.needs(package) == "a legacy kind"  # the module's needs answers
    assert fmt.unsupported(package) is None and fmt.stored(package, None) == (package, None)
    assert fmt.written_version(package) == "1.0" and fmt.runtime_versions("1.0") == {} and fmt.properties(data) == {}


def test_a_format_class_or_instance_or_module_with_FORMAT_is_taken_as_it_is():
    class Tiny(Format):
        NAME, VERSION, LAYOUT, RUNTIMES = "tiny", "1.0", "file", ()

    instance = Tiny()
    assert as_format(instance) is instance
    assert type(as_format(Tiny)) is Tiny
    holder = types.ModuleType("holder")
    holder.FORMAT = instance
    assert as_format(holder) is instance
    with pytest.raises(NotImplementedError):
        instance.dumps(small_package())  # the three a format must implement have no default
