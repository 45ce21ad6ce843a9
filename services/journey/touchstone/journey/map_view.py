"""GetJourneyMap: every stage of a map in journey order, with how it went over a run of days."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import grpc

from touchstone.journey.codec import QUADRANTS, SIDES
from touchstone.journey.ports import JourneyStore
from touchstone.journey.stage_days import StageFigures
from touchstone.journey.standards import StandardSet
from touchstone.journey.v1 import journey_service_pb2 as pb
from touchstone.journey.visits import quadrant_of, share
from touchstone.platform.serving.days import day_run
from touchstone.platform.serving.rpc import InvalidArgument, NotFound, require, rpc_method
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.journey_maps import JourneyMap, Stage

DEFAULT_DAYS = 7
MAX_DAYS = 366
DEFAULT_TOP_BROKEN = 3
MAX_TOP_BROKEN = 20


@dataclass(frozen=True)
class MapQuery:
    """A GetJourneyMap request, checked."""

    journey_map: JourneyMap
    site_id: str
    first: date
    last: date
    top_broken: int


def map_query(
    request: pb.GetJourneyMapRequest, maps: Mapping[str, JourneyMap], today: date
) -> MapQuery:
    """The checked request; InvalidArgument with every field at fault, NotFound for a map."""
    map_id = require("journey_map", request.journey_map)
    days, violations = day_run(request.first_day, request.last_day, today, DEFAULT_DAYS, MAX_DAYS)
    if not 0 <= request.top_broken <= MAX_TOP_BROKEN:
        violations.append(("top_broken", f"must be 0..{MAX_TOP_BROKEN}"))
    if violations or days is None:
        raise InvalidArgument(*violations)
    first, last = days
    journey_map = maps.get(map_id)
    if journey_map is None:
        raise NotFound(f"journey map {map_id!r} not found; maps: {', '.join(sorted(maps))}")
    return MapQuery(
        journey_map, request.site_id, first, last, request.top_broken or DEFAULT_TOP_BROKEN
    )


def stage_view(
    stage: Stage | None, figures: StageFigures, standards: StandardSet, top_broken: int
) -> pb.StageView:
    """A stage's figures as a contract message (the whole map's when stage is None)."""
    procedural = share(figures.procedural_met, figures.procedural_weight)
    personal = share(figures.personal_met, figures.personal_weight)
    described = {s.standard_id: s.description for s in standards.standards}
    view = pb.StageView(
        moments=figures.moments,
        wins=figures.wins,
        losses=figures.losses,
        unscored=figures.unscored,
        win_rate=figures.win_rate,
        most_broken=[
            pb.BrokenStandard(standard_id=s, description=described.get(s, ""), broken=n)
            for s, n in figures.most_broken(top_broken)
        ],
        quadrant=QUADRANTS[quadrant_of(procedural, personal)],
        procedural_score=procedural or 0.0,
        personal_score=personal or 0.0,
        areas=label_scores(figures, "area"),
        dimensions=label_scores(figures, "dimension"),
    )
    if stage is not None:
        view.stage, view.name, view.on_route = stage.id, stage.name, stage.on_route
        view.side = SIDES[stage.side]
    return view


def label_scores(figures: StageFigures, kind: str) -> list[pb.LabelScore]:
    """The figures' procedural areas (or quality dimensions), by name."""
    return [
        pb.LabelScore(name=label, weight=weight, met=met, share=round(share(met, weight) or 0.0, 4))
        for (of_kind, label), (weight, met) in sorted(figures.labels.items())
        if of_kind == kind
    ]


def map_view(
    query: MapQuery, by_stage: Mapping[str, StageFigures], standards: StandardSet
) -> pb.JourneyMapView:
    """The map's stages in journey order, each with its figures (zero where nothing happened)."""
    journey_map = query.journey_map
    on_map = [by_stage[stage.id] for stage in journey_map.stages if stage.id in by_stage]
    whole = sum(on_map, StageFigures())  # a stage since taken off the map is not shown
    return pb.JourneyMapView(
        journey_map=journey_map.id,
        name=journey_map.name,
        site_id=query.site_id,
        first_day=query.first.isoformat(),
        last_day=query.last.isoformat(),
        stages=[
            stage_view(stage, by_stage.get(stage.id, StageFigures()), standards, query.top_broken)
            for stage in journey_map.stages
        ],
        whole_map=stage_view(None, whole, standards, query.top_broken),
        teams=team_views(journey_map, by_stage, standards, query.top_broken),
    )


def team_views(
    journey_map: JourneyMap,
    by_stage: Mapping[str, StageFigures],
    standards: StandardSet,
    top_broken: int,
) -> list[pb.StageView]:
    """Each staff team's figures over its stages, teams in the order of their first stage."""
    teams: dict[str, list[Stage]] = {}
    for stage in journey_map.stages:
        if stage.team:
            teams.setdefault(stage.team, []).append(stage)
    views = []
    for team, stages in teams.items():
        figures = sum((by_stage.get(s.id, StageFigures()) for s in stages), StageFigures())
        view = stage_view(None, figures, standards, top_broken)
        view.stage, view.name = team, ", ".join(s.name for s in stages)
        views.append(view)
    return views


class MapMethods:
    """GetJourneyMap; mixed into the journey servicer."""

    store: JourneyStore
    maps: Mapping[str, JourneyMap]
    calendars: Calendars  # whose day "today" is, by default the last day shown
    standards_now: Callable[[], Awaitable[StandardSet]]

    @rpc_method
    async def GetJourneyMap(
        self, request: pb.GetJourneyMapRequest, context: grpc.aio.ServicerContext
    ) -> pb.JourneyMapView:
        today = self.calendars.today(request.site_id, datetime.now(UTC))
        query = map_query(request, self.maps, today)
        by_stage = await self.store.stage_figures(
            query.journey_map.id, query.site_id, query.first, query.last
        )
        return map_view(query, by_stage, await self.standards_now())
