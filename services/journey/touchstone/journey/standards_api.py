"""The standards part of journey's gRPC service: what is in force, and checking a new file."""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from touchstone.journey.codec import SIDES
from touchstone.journey.domain import Standard, standards_version
from touchstone.journey.ports import PromotionStore
from touchstone.journey.promotions import standard_set_of
from touchstone.journey.standards import StandardSet, parse_standards
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.platform.serving.rpc import InvalidArgument, rpc_method
from touchstone.shared_kernel.journey_maps import JourneyMap

MAX_STANDARDS_TEXT = 1_000_000  # characters: a standards file is a page or two, not a dump


def standard_message(standard: Standard) -> pb.Standard:
    """A standard as a contract message."""
    return pb.Standard(
        standard_id=standard.standard_id,
        journey_map=standard.journey_map,
        stage=standard.stage,
        description=standard.description,
        area=standard.area,
        dimension=standard.dimension,
        side=SIDES[standard.side],
        weight=standard.weight,
        measurement=standard.measurement,
        comparator=standard.comparator if standard.measurement else "",
        threshold=standard.threshold,
        surprise_margin=standard.surprise_margin,
        must_observe=standard.must_observe,
        must_not_observe=standard.must_not_observe,
        applies_when=standard.applies_when,
        deadline_until=standard.deadline_until,
        deadline_by=standard.deadline_by,
        promised_measurement=standard.promised_measurement,
    )


class StandardsMethods:
    """ListStandards and ValidateStandards; mixed into the journey servicer."""

    standards: StandardSet
    maps: Mapping[str, JourneyMap]
    store: PromotionStore

    async def standards_now(self) -> StandardSet:
        """The standards in force: the version promoted last, or those the server started with."""
        latest = await self.store.latest_promotion()
        if latest is not None and latest.version != self.standards.version:
            self.standards = standard_set_of(latest, self.maps) or self.standards
        return self.standards

    @rpc_method
    async def ListStandards(
        self, request: pb.ListStandardsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStandardsResponse:
        standards = await self.standards_now()
        wanted = [
            standard_message(s)
            for s in standards.standards
            if not request.journey_map or s.journey_map == request.journey_map
        ]
        return pb.ListStandardsResponse(version=standards.version, standards=wanted)

    @rpc_method
    async def ValidateStandards(
        self, request: pb.ValidateStandardsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ValidateStandardsResponse:
        if len(request.yaml) > MAX_STANDARDS_TEXT:
            raise InvalidArgument(("yaml", f"longer than {MAX_STANDARDS_TEXT:,} characters"))
        name = request.name or "standards.yaml"
        standards, problems = parse_standards(request.yaml, name, self.maps)
        return pb.ValidateStandardsResponse(
            valid=not problems,
            version=standards_version(standards) if not problems else "",
            standards=len(standards) if not problems else 0,
            problems=[
                pb.StandardsProblem(line=p.line, field=p.field, message=p.message) for p in problems
            ],
        )
