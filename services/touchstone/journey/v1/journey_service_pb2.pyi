from touchstone.journey.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListMomentsRequest(_message.Message):
    __slots__ = ("customer_id", "visit_id", "site_id", "verdict", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    visit_id: str
    site_id: str
    verdict: _events_pb2.Verdict
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., site_id: _Optional[str] = ..., verdict: _Optional[_Union[_events_pb2.Verdict, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMomentsResponse(_message.Message):
    __slots__ = ("moments", "next_page_token")
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    moments: _containers.RepeatedCompositeFieldContainer[_events_pb2.MomentScored]
    next_page_token: str
    def __init__(self, moments: _Optional[_Iterable[_Union[_events_pb2.MomentScored, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetVisitRequest(_message.Message):
    __slots__ = ("visit_id",)
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    visit_id: str
    def __init__(self, visit_id: _Optional[str] = ...) -> None: ...

class Visit(_message.Message):
    __slots__ = ("visit_id", "customer_id", "site_id", "journey_map", "moments", "wins", "losses", "completion")
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    visit_id: str
    customer_id: str
    site_id: str
    journey_map: str
    moments: _containers.RepeatedCompositeFieldContainer[_events_pb2.MomentScored]
    wins: int
    losses: int
    completion: _events_pb2.VisitCompleted
    def __init__(self, visit_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., moments: _Optional[_Iterable[_Union[_events_pb2.MomentScored, _Mapping]]] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., completion: _Optional[_Union[_events_pb2.VisitCompleted, _Mapping]] = ...) -> None: ...

class GetScoreStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ScoreStats(_message.Message):
    __slots__ = ("wins", "losses", "unscored")
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    UNSCORED_FIELD_NUMBER: _ClassVar[int]
    wins: int
    losses: int
    unscored: int
    def __init__(self, wins: _Optional[int] = ..., losses: _Optional[int] = ..., unscored: _Optional[int] = ...) -> None: ...
