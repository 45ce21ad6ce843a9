"""An OTLP/HTTP trace receiver for tests: what the services' exporters send to /v1/traces,
decoded (protobuf), kept as spans with their service, trace, parent and links."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.local_servers import ThreadedApp
from touchstone.tools.dev.embedded import free_port


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    linked_traces: tuple[str, ...]


@dataclass
class OtlpReceiver:
    """Serves on 127.0.0.1 from a thread of its own: start(), stop()."""

    port: int = field(default_factory=free_port)
    spans: list[ReceivedSpan] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpReceiver:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/traces", self.traces)
        self._server = ThreadedApp(app, self.port)
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    async def traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(
                    ReceivedSpan(
                        service,
                        span.name,
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                        tuple(link.trace_id.hex() for link in span.links),
                    )
                    for span in scope_spans.spans
                )
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )
