import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.annotations.v1 import personal_pb2 as _personal_pb2
from touchstone.notify.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetControlFiguresRequest(_message.Message):
    __slots__ = ("site_id", "first_day", "last_day")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_DAY_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    first_day: str
    last_day: str
    def __init__(self, site_id: _Optional[str] = ..., first_day: _Optional[str] = ..., last_day: _Optional[str] = ...) -> None: ...

class ControlFigures(_message.Message):
    __slots__ = ("first_day", "last_day", "as_of", "sites")
    FIRST_DAY_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    SITES_FIELD_NUMBER: _ClassVar[int]
    first_day: str
    last_day: str
    as_of: _timestamp_pb2.Timestamp
    sites: _containers.RepeatedCompositeFieldContainer[SiteControlFigures]
    def __init__(self, first_day: _Optional[str] = ..., last_day: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sites: _Optional[_Iterable[_Union[SiteControlFigures, _Mapping]]] = ...) -> None: ...

class SiteControlFigures(_message.Message):
    __slots__ = ("site_id", "visits", "complaints", "complaint_rate", "cases", "cases_due", "omitted", "omission_rate", "recovered", "lost", "dissatisfaction_rate", "steps_due", "steps_on_time", "on_time_rate")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    COMPLAINTS_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_RATE_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    CASES_DUE_FIELD_NUMBER: _ClassVar[int]
    OMITTED_FIELD_NUMBER: _ClassVar[int]
    OMISSION_RATE_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    DISSATISFACTION_RATE_FIELD_NUMBER: _ClassVar[int]
    STEPS_DUE_FIELD_NUMBER: _ClassVar[int]
    STEPS_ON_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_RATE_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    visits: int
    complaints: int
    complaint_rate: float
    cases: int
    cases_due: int
    omitted: int
    omission_rate: float
    recovered: int
    lost: int
    dissatisfaction_rate: float
    steps_due: int
    steps_on_time: int
    on_time_rate: float
    def __init__(self, site_id: _Optional[str] = ..., visits: _Optional[int] = ..., complaints: _Optional[int] = ..., complaint_rate: _Optional[float] = ..., cases: _Optional[int] = ..., cases_due: _Optional[int] = ..., omitted: _Optional[int] = ..., omission_rate: _Optional[float] = ..., recovered: _Optional[int] = ..., lost: _Optional[int] = ..., dissatisfaction_rate: _Optional[float] = ..., steps_due: _Optional[int] = ..., steps_on_time: _Optional[int] = ..., on_time_rate: _Optional[float] = ...) -> None: ...

class WatchCasesRequest(_message.Message):
    __slots__ = ("site_id", "case_id")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    case_id: str
    def __init__(self, site_id: _Optional[str] = ..., case_id: _Optional[str] = ...) -> None: ...

class WatchCasesResponse(_message.Message):
    __slots__ = ("event", "missed", "published_at")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.CaseEvent
    missed: int
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, event: _Optional[_Union[_events_pb2.CaseEvent, _Mapping]] = ..., missed: _Optional[int] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchTasksRequest(_message.Message):
    __slots__ = ("site_id", "owner")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    owner: str
    def __init__(self, site_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class WatchTasksResponse(_message.Message):
    __slots__ = ("event", "missed", "published_at")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.TaskEvent
    missed: int
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, event: _Optional[_Union[_events_pb2.TaskEvent, _Mapping]] = ..., missed: _Optional[int] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StepCommand(_message.Message):
    __slots__ = ("case_id", "n", "by", "note")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    n: int
    by: str
    note: str
    def __init__(self, case_id: _Optional[str] = ..., n: _Optional[int] = ..., by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ResolveCaseRequest(_message.Message):
    __slots__ = ("case_id", "by", "note")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    by: str
    note: str
    def __init__(self, case_id: _Optional[str] = ..., by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ListCasesRequest(_message.Message):
    __slots__ = ("customer_id", "site_id", "status", "page_size", "page_token", "owner", "overdue", "min_value_at_risk_minor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_AT_RISK_MINOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    site_id: str
    status: _events_pb2.CaseStatus
    page_size: int
    page_token: str
    owner: str
    overdue: bool
    min_value_at_risk_minor: int
    def __init__(self, customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., status: _Optional[_Union[_events_pb2.CaseStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner: _Optional[str] = ..., overdue: _Optional[bool] = ..., min_value_at_risk_minor: _Optional[int] = ...) -> None: ...

class ListCasesResponse(_message.Message):
    __slots__ = ("cases", "next_page_token", "total")
    CASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[Case]
    next_page_token: str
    total: int
    def __init__(self, cases: _Optional[_Iterable[_Union[Case, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class GetCaseRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class Case(_message.Message):
    __slots__ = ("case_id", "customer_id", "visit_id", "site_id", "status", "opened_at", "due_at", "moment_ids", "reasons", "recovered_at", "recovered_by", "playbook", "steps", "resolved_by", "value_at_risk_minor", "currency", "deliveries", "timeline", "returned_at", "returned_by", "valued")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    MOMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_AT_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_BY_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    VALUE_AT_RISK_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    RETURNED_AT_FIELD_NUMBER: _ClassVar[int]
    RETURNED_BY_FIELD_NUMBER: _ClassVar[int]
    VALUED_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    customer_id: str
    visit_id: str
    site_id: str
    status: _events_pb2.CaseStatus
    opened_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    moment_ids: _containers.RepeatedScalarFieldContainer[str]
    reasons: _containers.RepeatedScalarFieldContainer[str]
    recovered_at: _timestamp_pb2.Timestamp
    recovered_by: str
    playbook: str
    steps: _containers.RepeatedCompositeFieldContainer[_events_pb2.CaseStep]
    resolved_by: str
    value_at_risk_minor: int
    currency: str
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    returned_at: _timestamp_pb2.Timestamp
    returned_by: str
    valued: bool
    def __init__(self, case_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., site_id: _Optional[str] = ..., status: _Optional[_Union[_events_pb2.CaseStatus, str]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., moment_ids: _Optional[_Iterable[str]] = ..., reasons: _Optional[_Iterable[str]] = ..., recovered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recovered_by: _Optional[str] = ..., playbook: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[_events_pb2.CaseStep, _Mapping]]] = ..., resolved_by: _Optional[str] = ..., value_at_risk_minor: _Optional[int] = ..., currency: _Optional[str] = ..., deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., returned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., returned_by: _Optional[str] = ..., valued: _Optional[bool] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("at", "what", "n", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    what: str
    n: int
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., what: _Optional[str] = ..., n: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("delivery_id", "n", "channel", "action", "status", "reason", "attempts", "sent_at", "language")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    n: int
    channel: str
    action: str
    status: str
    reason: str
    attempts: int
    sent_at: _timestamp_pb2.Timestamp
    language: str
    def __init__(self, delivery_id: _Optional[str] = ..., n: _Optional[int] = ..., channel: _Optional[str] = ..., action: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., language: _Optional[str] = ...) -> None: ...
