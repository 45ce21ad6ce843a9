"""Notify's gRPC servicer: recovery cases."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Protocol

import grpc

from touchstone.notify.codec import (
    STATUS_NAMES,
    case_message,
    resolved_by_staff,
    step_taken,
    timeline_entry,
)
from touchstone.notify.control_figures import SiteFigures, SiteWindow
from touchstone.notify.domain import CaseClosed, UnknownCase, UnknownStep
from touchstone.notify.playbooks import PEOPLE
from touchstone.notify.ports import NotifyStore
from touchstone.notify.rows import CaseFilter, StepCommand
from touchstone.notify.staff_commands import resolving, taking
from touchstone.notify.v1 import notify_service_pb2 as pb
from touchstone.notify.v1 import notify_service_pb2_grpc as pb_grpc
from touchstone.notify.v1.events_pb2 import CASE_STATUS_UNSPECIFIED, CaseEvent, TaskEvent
from touchstone.platform.messaging.topic_feed import TopicFeed, watch_stream
from touchstone.platform.runtime.prototime import to_timestamp
from touchstone.platform.security.auth_interceptor import current_caller
from touchstone.platform.security.site_scope import limited
from touchstone.platform.serving.days import day_run
from touchstone.platform.serving.rpc import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PageRequest,
    PermissionDenied,
    require,
    rpc_method,
)
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.calendar_file import load_calendars


def case_filter(request: pb.ListCasesRequest, now: datetime) -> CaseFilter:
    """The store filter a ListCases request asks for (overdue: by `now`)."""
    problems = []
    if request.status != CASE_STATUS_UNSPECIFIED and request.status not in STATUS_NAMES:
        problems.append(("status", f"unknown status {request.status}"))
    if request.owner not in ("", *PEOPLE):
        problems.append(("owner", f"must be one of {', '.join(PEOPLE)}"))
    if request.min_value_at_risk_minor < 0:
        problems.append(("min_value_at_risk_minor", "must not be negative"))
    if problems:
        raise InvalidArgument(*problems)
    return CaseFilter(
        min_value_at_risk_minor=request.min_value_at_risk_minor,
        customer_id=request.customer_id,
        site_id=request.site_id,
        status=STATUS_NAMES.get(request.status, ""),
        owner=request.owner,
        overdue_at=now if request.overdue else None,
    )


MAX_NOTE = 2000


def step_command(request: pb.StepCommand, completed: bool) -> StepCommand:
    """The store command a step request asks for; InvalidArgument naming each field at fault."""
    problems = [(f, "is required") for f in ("case_id", "by") if not getattr(request, f)]
    if request.n < 1:
        problems.append(("n", "must be a step number: 1 or more"))
    if len(request.note) > MAX_NOTE:
        problems.append(("note", f"must be at most {MAX_NOTE} characters"))
    if problems:
        raise InvalidArgument(*problems)
    return StepCommand(request.case_id, request.n, request.by, request.note, completed)


MAX_DAYS = 366


ACTING_FOR_OTHERS = frozenset({"manager", "admin", "service"})  # may record who did a step


class ControlFiguresSource(Protocol):
    """Where control figures come from."""

    async def sites(self) -> list[str]:
        """Every site seen."""

    async def figures(self, windows: Sequence[SiteWindow], now: datetime) -> list[SiteFigures]:
        """Each site's figures over its window."""


def site_figures_message(figures: SiteFigures) -> pb.SiteControlFigures:
    """A site's control figures as a contract message, with their rates."""
    return pb.SiteControlFigures(
        **vars(figures),
        complaint_rate=figures.complaint_rate,
        omission_rate=figures.omission_rate,
        dissatisfaction_rate=figures.dissatisfaction_rate,
        on_time_rate=figures.on_time_rate,
    )


def cases_wanted(request: pb.WatchCasesRequest) -> Callable[[CaseEvent], bool]:
    """Which case events a WatchCases call wants."""
    site_id, case_id = request.site_id, request.case_id
    return lambda event: site_id in ("", event.site_id) and case_id in ("", case_of(event))


def case_of(event: CaseEvent) -> str:
    """The case a case event is about, whatever the change."""
    change = event.WhichOneof("change")
    return str(getattr(event, change).case_id) if change else ""


def tasks_wanted(request: pb.WatchTasksRequest) -> Callable[[TaskEvent], bool]:
    """Which task events a WatchTasks call wants; InvalidArgument for an unknown owner."""
    if request.owner not in ("", *PEOPLE):
        raise InvalidArgument(("owner", f"must be one of {', '.join(PEOPLE)}"))
    site_id, owner = request.site_id, request.owner
    return lambda event: site_id in ("", event.task.site_id) and owner in ("", event.task.owner)


def watched_case(event: CaseEvent, missed: int, at: datetime) -> pb.WatchCasesResponse:
    """A WatchCases response for one case event."""
    return pb.WatchCasesResponse(event=event, missed=missed, published_at=to_timestamp(at))


def watched_task(event: TaskEvent, missed: int, at: datetime) -> pb.WatchTasksResponse:
    """A WatchTasks response for one task event."""
    return pb.WatchTasksResponse(event=event, missed=missed, published_at=to_timestamp(at))


class NotifyApi(pb_grpc.NotifyServiceServicer):
    """Answers queries from notify's own tables, takes staff commands, and streams what notify
    publishes."""

    def __init__(
        self,
        store: NotifyStore,
        clock: Callable[[], datetime] | None = None,
        case_feed: TopicFeed[CaseEvent] | None = None,
        task_feed: TopicFeed[TaskEvent] | None = None,
        figures: ControlFiguresSource | None = None,
        calendars: Calendars | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.case_feed = case_feed
        self.task_feed = task_feed
        self.figures = figures
        self.calendars = calendars or load_calendars()

    @rpc_method
    async def GetControlFigures(
        self, request: pb.GetControlFiguresRequest, context: grpc.aio.ServicerContext
    ) -> pb.ControlFigures:
        now = self.clock()
        today = self.calendars.today(request.site_id, now)
        days, violations = day_run(request.first_day, request.last_day, today, 1, MAX_DAYS)
        if violations or days is None:
            raise InvalidArgument(*violations)
        if self.figures is None:
            raise FailedPrecondition("this notify server keeps no control figures")
        first, last = days
        sites = [request.site_id] if request.site_id else await self.figures.sites()
        windows = [SiteWindow(site, *self.calendars.span(site, first, last)) for site in sites]
        found = await self.figures.figures(windows, now)
        return pb.ControlFigures(
            first_day=first.isoformat(),
            last_day=last.isoformat(),
            as_of=to_timestamp(now),
            sites=[site_figures_message(f) for f in found],
        )

    async def WatchCases(
        self, request: pb.WatchCasesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchCasesResponse]:
        choose = functools.partial(cases_wanted, request)
        live = pb.WatchCasesResponse
        responses = watch_stream(self.case_feed, choose, watched_case, live, context)
        async with aclosing(responses):
            async for response in responses:
                yield response

    async def WatchTasks(
        self, request: pb.WatchTasksRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchTasksResponse]:
        choose = functools.partial(tasks_wanted, request)
        live = pb.WatchTasksResponse
        responses = watch_stream(self.task_feed, choose, watched_task, live, context)
        async with aclosing(responses):
            async for response in responses:
                yield response

    @rpc_method
    async def AcknowledgeStep(
        self, request: pb.StepCommand, context: grpc.aio.ServicerContext
    ) -> pb.Case:
        return await self._take(step_command(request, completed=False))

    @rpc_method
    async def CompleteStep(
        self, request: pb.StepCommand, context: grpc.aio.ServicerContext
    ) -> pb.Case:
        return await self._take(step_command(request, completed=True))

    @rpc_method
    async def ResolveCase(
        self, request: pb.ResolveCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.Case:
        problems = [(f, "is required") for f in ("case_id", "by") if not getattr(request, f)]
        if len(request.note) > MAX_NOTE:
            problems.append(("note", f"must be at most {MAX_NOTE} characters"))
        if problems:
            raise InvalidArgument(*problems)
        await self._may_act_on(request.case_id, request.by)
        try:
            confirmed = resolving(request.by, request.note, self.clock(), resolved_by_staff)
            case = await self.store.resolve(request.case_id, confirmed)
        except UnknownCase as error:
            raise NotFound(str(error)) from error
        return case_message(case)

    async def _take(self, command: StepCommand) -> pb.Case:
        await self._may_act_on(command.case_id, command.by)
        try:
            case = await self.store.take_step(
                command.case_id, taking(command, self.clock(), step_taken)
            )
        except (UnknownCase, UnknownStep) as error:
            raise NotFound(str(error)) from error
        except CaseClosed as error:
            raise FailedPrecondition(str(error)) from error
        return case_message(case)

    async def _may_act_on(self, case_id: str, by: str) -> None:
        """PermissionDenied if a member of staff acts under another name; NotFound, as for no
        such case, if the case is of a site the caller may not see (checked before the command
        acts: the reply's own check would come too late)."""
        caller = current_caller()
        if caller is not None and not caller.has_any(ACTING_FOR_OTHERS) and by != caller.subject:
            raise PermissionDenied(
                f"staff act under their own name: by is {by!r}, the token is {caller.subject!r}"
            )
        if not limited(caller) or not case_id:
            return
        case = await self.store.get_case(case_id)
        if case is not None and caller is not None and not caller.may_see_site(case.site_id):
            raise NotFound(f"case {case_id} not found")

    @rpc_method
    async def ListCases(
        self, request: pb.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCasesResponse:
        where = case_filter(request, self.clock())
        page = PageRequest.of(request.page_size, request.page_token)
        rows, total = await self.store.list_cases(where, page.after, page.size)
        response = pb.ListCasesResponse(cases=[case_message(r) for r in rows], total=total)
        response.next_page_token = page.next_token(rows, lambda r: (r.opened_at, r.case_id))
        return response

    @rpc_method
    async def GetCase(
        self, request: pb.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.Case:
        case_id = require("case_id", request.case_id)
        case = await self.store.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        message = case_message(case)
        message.timeline.extend(timeline_entry(e) for e in await self.store.case_timeline(case_id))
        return message
