"""Generate (or check) docs/openapi.json, the HTTP/JSON API, from protos/ and their comments.

Each service method the HTTP gateway serves (http_gateway.py) is a POST to
/<package.Service>/<Method>; bodies are proto3 JSON (lowerCamelCase names, 64-bit integers as
text, enums by name, Timestamps as RFC 3339). Dev-only, like codegen.py: protoc reads the
comments, which the generated modules do not keep.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

from touchstone.platform.runtime.settings import DEFAULT_HTTP_PORTS
from touchstone.platform.serving.connect_protocol import HTTP_STATUS, code_name

Schema = dict[str, Any]
FIELD = descriptor_pb2.FieldDescriptorProto
LOCATION_MESSAGE, LOCATION_FIELD, LOCATION_SERVICE, LOCATION_METHOD = 4, 2, 6, 2
SCALARS: dict[int, Schema] = {
    FIELD.TYPE_DOUBLE: {"type": "number"},
    FIELD.TYPE_FLOAT: {"type": "number"},
    FIELD.TYPE_INT32: {"type": "integer", "format": "int32"},
    FIELD.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FIELD.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FIELD.TYPE_UINT32: {"type": "integer", "minimum": 0},
    FIELD.TYPE_FIXED32: {"type": "integer", "minimum": 0},
    FIELD.TYPE_INT64: {"type": ["string", "integer"], "format": "int64"},
    FIELD.TYPE_SINT64: {"type": ["string", "integer"], "format": "int64"},
    FIELD.TYPE_SFIXED64: {"type": ["string", "integer"], "format": "int64"},
    FIELD.TYPE_UINT64: {"type": ["string", "integer"], "format": "int64"},
    FIELD.TYPE_FIXED64: {"type": ["string", "integer"], "format": "int64"},
    FIELD.TYPE_BOOL: {"type": "boolean"},
    FIELD.TYPE_STRING: {"type": "string"},
    FIELD.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
WELL_KNOWN: dict[str, Schema] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
}
ERROR = "connect.Error"
SERVICE_NAMES = {"contacts": "ContactsService", "journey": "JourneyService"}
SERVICE_NAMES |= {"loyalty": "LoyaltyService", "notify": "NotifyService"}


def descriptor_set(protos: list[str], include: Path) -> descriptor_pb2.FileDescriptorSet:
    """The protos as protoc parses them, comments kept."""
    from grpc_tools import protoc  # dev-only dependency, imported when generating

    well_known = Path(protoc.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "set.pb"
        args = ["protoc", f"-I{include}", f"-I{well_known}", f"--descriptor_set_out={out}"]
        if protoc.main([*args, "--include_source_info", "--include_imports", *protos]) != 0:
            raise SystemExit("protoc failed")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


class Comments:
    """The leading (and trailing) comment of each message, field, service and method."""

    def __init__(self, files: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self.text: dict[tuple[str, tuple[int, ...]], str] = {}
        for file in files:
            for location in file.source_code_info.location:
                words = " ".join(
                    line.strip()
                    for part in (location.leading_comments, location.trailing_comments)
                    for line in part.splitlines()
                    if line.strip()
                )
                if words:
                    self.text[(file.name, tuple(location.path))] = words

    def of(self, file: str, *path: int) -> str:
        return self.text.get((file, path), "")


class Document:
    """The OpenAPI 3.1 document of the services in a descriptor set."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.files = list(files.file)
        self.comments = Comments(self.files)
        self.messages: dict[str, tuple[str, descriptor_pb2.DescriptorProto, tuple[int, ...]]] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        for file in self.files:
            prefix = f".{file.package}" if file.package else ""
            for n, message in enumerate(file.message_type):
                self._index(file.name, prefix, message, (LOCATION_MESSAGE, n))
            for enum in file.enum_type:
                self.enums[f"{prefix}.{enum.name}"] = enum
        self.schemas: dict[str, Schema] = {}

    def _index(
        self, file: str, prefix: str, message: descriptor_pb2.DescriptorProto, path: tuple[int, ...]
    ) -> None:
        name = f"{prefix}.{message.name}"
        self.messages[name] = (file, message, path)
        for n, nested in enumerate(message.nested_type):
            self._index(file, name, nested, (*path, 3, n))
        for enum in message.enum_type:
            self.enums[f"{name}.{enum.name}"] = enum

    def build(self) -> Schema:
        paths: dict[str, Any] = {}
        for file in self.files:
            for s, service in enumerate(file.service):
                full = f"{file.package}.{service.name}"
                short = next((k for k, v in SERVICE_NAMES.items() if v == service.name), "")
                for m, method in enumerate(service.method):
                    if method.client_streaming:
                        continue  # gRPC only (IngestStream): IngestBatch takes the same
                    doc = self.comments.of(file.name, LOCATION_SERVICE, s, LOCATION_METHOD, m)
                    paths[f"/{full}/{method.name}"] = self._operation(
                        service.name, short, method, doc
                    )
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Touchstone HTTP/JSON API",
                "version": "1",
                "description": INFO,
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            },
            "security": [{"bearer": []}],
            "tags": [{"name": name} for name in SERVICE_NAMES.values()],
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                },
                "schemas": {ERROR: ERROR_SCHEMA, **dict(sorted(self.schemas.items()))},
            },
        }

    def _operation(
        self,
        service: str,
        short: str,
        method: descriptor_pb2.MethodDescriptorProto,
        doc: str,
    ) -> Schema:
        streams = method.server_streaming
        media = "application/connect+json" if streams else "application/json"
        request, reply = self._ref(method.input_type), self._ref(method.output_type)
        note = STREAM_NOTE if streams else ""
        operation: Schema = {
            "tags": [service],
            "operationId": f"{service}_{method.name}",
            "summary": doc.split(". ")[0].rstrip(".") if doc else method.name,
            "description": " ".join(filter(None, [doc, note])),
            "requestBody": {"required": True, "content": {media: {"schema": request}}},
            "responses": {
                "200": {"description": "the reply", "content": {media: {"schema": reply}}},
                "default": {
                    "description": ERROR_TEXT,
                    "content": {"application/json": {"schema": self._error_ref()}},
                },
            },
        }
        port = DEFAULT_HTTP_PORTS.get(short)
        servers = [{"url": f"http://127.0.0.1:{port}", "description": f"{short} on `make run`"}]
        return {"servers": servers, "post": operation} if port else {"post": operation}

    def _error_ref(self) -> Schema:
        return {"$ref": f"#/components/schemas/{ERROR}"}

    def _ref(self, type_name: str) -> Schema:
        if type_name in WELL_KNOWN:
            return dict(WELL_KNOWN[type_name])
        name = type_name.lstrip(".")
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: a message may hold itself
            self.schemas[name] = self._message(type_name)
        return {"$ref": f"#/components/schemas/{name}"}

    def _message(self, type_name: str) -> Schema:
        file, message, path = self.messages[type_name]
        properties: Schema = {}
        for n, field in enumerate(message.field):
            described = self._field(field)
            if text := self.comments.of(file, *path, LOCATION_FIELD, n):
                described = {**described, "description": text}
            properties[field.json_name or field.name] = described
        schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if text := self.comments.of(file, *path):
            schema["description"] = text
        return schema

    def _field(self, field: descriptor_pb2.FieldDescriptorProto) -> Schema:
        entry = self.messages.get(field.type_name, ("", None, ()))[1]
        if entry is not None and entry.options.map_entry:
            return {"type": "object", "additionalProperties": self._single(entry.field[1])}
        single = self._single(field)
        if field.label == FIELD.LABEL_REPEATED:
            return {"type": "array", "items": single}
        return single

    def _single(self, field: descriptor_pb2.FieldDescriptorProto) -> Schema:
        if field.type == FIELD.TYPE_MESSAGE:
            return self._ref(field.type_name)
        if field.type == FIELD.TYPE_ENUM:
            enum = self.enums[field.type_name]
            return {"type": "string", "enum": [value.name for value in enum.value]}
        return dict(SCALARS[field.type])


INFO = (
    "Every method of contacts, journey, loyalty and notify over HTTP/JSON by the Connect "
    "protocol (https://connectrpc.com/docs/protocol): POST the request as proto3 JSON to "
    "/<package.Service>/<Method> with Content-Type application/json and an "
    "`Authorization: Bearer <token>` header; the reply is the method's message in JSON. Fields "
    "left at their default (0, empty, false) are left out of replies. The HTTP server of each "
    "service calls its own gRPC server, so validation, roles, site scope, limits and audit are "
    "the same. Methods that stream replies take and answer Connect envelopes "
    "(application/connect+json). IngestStream, which streams from the client, is gRPC only."
)
STREAM_NOTE = (
    "Streams its replies: send the request in one Connect envelope (a flags byte 0, the "
    "length as 4 bytes big-endian, the JSON) with Content-Type application/connect+json; each "
    "reply comes in an envelope of its own, and the last envelope (flags 2) holds "
    '`{"error": ...}` if the stream ended with one.'
)
ERROR_TEXT = "a Connect error; the HTTP status follows the code: " + ", ".join(
    f"{code_name(c)} {s}" for c, s in HTTP_STATUS.items()
)
ERROR_SCHEMA: Schema = {
    "type": "object",
    "required": ["code"],
    "properties": {
        "code": {"type": "string", "enum": [code_name(c) for c in HTTP_STATUS]},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "examples": ["google.rpc.BadRequest"]},
                    "value": {"type": "string", "contentEncoding": "base64"},
                    "debug": {"type": "object", "description": "the detail, readable"},
                },
            },
        },
    },
}


def document(protos: list[str], include: Path) -> Schema:
    """The OpenAPI document of every service in the protos."""
    return Document(descriptor_set(protos, include)).build()


def rendered(protos: list[str], include: Path) -> str:
    return json.dumps(document(protos, include), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: openapi [--check] --out FILE PROTO..."""
    parser = argparse.ArgumentParser(prog="touchstone.tools.dev.openapi")
    parser.add_argument("--out", type=Path, required=True, help="the document to write")
    parser.add_argument("--include", type=Path, default=Path("protos"), help="the protos' root")
    parser.add_argument("--check", action="store_true", help="fail if the document is stale")
    parser.add_argument("protos", nargs="+", help="the .proto files")
    args = parser.parse_args(argv)
    text = rendered(args.protos, args.include)
    if not args.check:
        args.out.write_text(text)
        return 0
    if not args.out.exists() or args.out.read_text() != text:
        print(f"{args.out} is stale; run `make generate` and commit it")
        return 1
    print(f"{args.out} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
