"""Generated code for the protobuf format's schema, proto/crossform/v1/package.proto.

package_pb2.py and package_pb2.pyi are protoc's output, committed and never
edited by hand: regenerate them with the command in proto/README.md
(tests/formats/protobuf/test_protobuf_schema.py fails when they drift from the .proto).
"""
