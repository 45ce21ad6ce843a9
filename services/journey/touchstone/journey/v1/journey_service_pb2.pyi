import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.journey.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListMomentsRequest(_message.Message):
    __slots__ = ("customer_id", "visit_id", "site_id", "verdict", "page_size", "page_token", "journey_map", "stage", "since", "until")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    visit_id: str
    site_id: str
    verdict: _events_pb2.Verdict
    page_size: int
    page_token: str
    journey_map: str
    stage: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., site_id: _Optional[str] = ..., verdict: _Optional[_Union[_events_pb2.Verdict, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., journey_map: _Optional[str] = ..., stage: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("visit_id", "customer_id", "site_id", "journey_map", "moments", "wins", "losses", "completion", "first_at", "last_at")
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    FIRST_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_AT_FIELD_NUMBER: _ClassVar[int]
    visit_id: str
    customer_id: str
    site_id: str
    journey_map: str
    moments: _containers.RepeatedCompositeFieldContainer[_events_pb2.MomentScored]
    wins: int
    losses: int
    completion: _events_pb2.VisitCompleted
    first_at: _timestamp_pb2.Timestamp
    last_at: _timestamp_pb2.Timestamp
    def __init__(self, visit_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., moments: _Optional[_Iterable[_Union[_events_pb2.MomentScored, _Mapping]]] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., completion: _Optional[_Union[_events_pb2.VisitCompleted, _Mapping]] = ..., first_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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

class ListVisitsRequest(_message.Message):
    __slots__ = ("customer_id", "site_id", "completed_only", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    site_id: str
    completed_only: bool
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., completed_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVisitsResponse(_message.Message):
    __slots__ = ("visits", "next_page_token")
    VISITS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    visits: _containers.RepeatedCompositeFieldContainer[Visit]
    next_page_token: str
    def __init__(self, visits: _Optional[_Iterable[_Union[Visit, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Standard(_message.Message):
    __slots__ = ("standard_id", "journey_map", "stage", "description", "area", "dimension", "side", "weight", "measurement", "comparator", "threshold", "surprise_margin", "must_observe", "must_not_observe", "applies_when", "deadline_until", "deadline_by", "promised_measurement")
    STANDARD_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MEASUREMENT_FIELD_NUMBER: _ClassVar[int]
    COMPARATOR_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SURPRISE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    MUST_OBSERVE_FIELD_NUMBER: _ClassVar[int]
    MUST_NOT_OBSERVE_FIELD_NUMBER: _ClassVar[int]
    APPLIES_WHEN_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_BY_FIELD_NUMBER: _ClassVar[int]
    PROMISED_MEASUREMENT_FIELD_NUMBER: _ClassVar[int]
    standard_id: str
    journey_map: str
    stage: str
    description: str
    area: str
    dimension: str
    side: _events_pb2.Side
    weight: float
    measurement: str
    comparator: str
    threshold: float
    surprise_margin: float
    must_observe: _containers.RepeatedScalarFieldContainer[str]
    must_not_observe: _containers.RepeatedScalarFieldContainer[str]
    applies_when: _containers.RepeatedScalarFieldContainer[str]
    deadline_until: str
    deadline_by: str
    promised_measurement: str
    def __init__(self, standard_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., stage: _Optional[str] = ..., description: _Optional[str] = ..., area: _Optional[str] = ..., dimension: _Optional[str] = ..., side: _Optional[_Union[_events_pb2.Side, str]] = ..., weight: _Optional[float] = ..., measurement: _Optional[str] = ..., comparator: _Optional[str] = ..., threshold: _Optional[float] = ..., surprise_margin: _Optional[float] = ..., must_observe: _Optional[_Iterable[str]] = ..., must_not_observe: _Optional[_Iterable[str]] = ..., applies_when: _Optional[_Iterable[str]] = ..., deadline_until: _Optional[str] = ..., deadline_by: _Optional[str] = ..., promised_measurement: _Optional[str] = ...) -> None: ...

class ListStandardsRequest(_message.Message):
    __slots__ = ("journey_map",)
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    journey_map: str
    def __init__(self, journey_map: _Optional[str] = ...) -> None: ...

class ListStandardsResponse(_message.Message):
    __slots__ = ("version", "standards")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STANDARDS_FIELD_NUMBER: _ClassVar[int]
    version: str
    standards: _containers.RepeatedCompositeFieldContainer[Standard]
    def __init__(self, version: _Optional[str] = ..., standards: _Optional[_Iterable[_Union[Standard, _Mapping]]] = ...) -> None: ...

class ValidateStandardsRequest(_message.Message):
    __slots__ = ("yaml", "name")
    YAML_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    yaml: str
    name: str
    def __init__(self, yaml: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class StandardsProblem(_message.Message):
    __slots__ = ("line", "field", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    field: str
    message: str
    def __init__(self, line: _Optional[int] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ValidateStandardsResponse(_message.Message):
    __slots__ = ("valid", "version", "standards", "problems")
    VALID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STANDARDS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    version: str
    standards: int
    problems: _containers.RepeatedCompositeFieldContainer[StandardsProblem]
    def __init__(self, valid: _Optional[bool] = ..., version: _Optional[str] = ..., standards: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[StandardsProblem, _Mapping]]] = ...) -> None: ...

class WatchMomentsRequest(_message.Message):
    __slots__ = ("customer_id", "site_id", "journey_map", "stage", "verdict")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    site_id: str
    journey_map: str
    stage: str
    verdict: _events_pb2.Verdict
    def __init__(self, customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., stage: _Optional[str] = ..., verdict: _Optional[_Union[_events_pb2.Verdict, str]] = ...) -> None: ...

class WatchMomentsResponse(_message.Message):
    __slots__ = ("moment", "missed", "published_at")
    MOMENT_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    moment: _events_pb2.MomentScored
    missed: int
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, moment: _Optional[_Union[_events_pb2.MomentScored, _Mapping]] = ..., missed: _Optional[int] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetJourneyMapRequest(_message.Message):
    __slots__ = ("journey_map", "site_id", "first_day", "last_day", "top_broken")
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_DAY_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    TOP_BROKEN_FIELD_NUMBER: _ClassVar[int]
    journey_map: str
    site_id: str
    first_day: str
    last_day: str
    top_broken: int
    def __init__(self, journey_map: _Optional[str] = ..., site_id: _Optional[str] = ..., first_day: _Optional[str] = ..., last_day: _Optional[str] = ..., top_broken: _Optional[int] = ...) -> None: ...

class BrokenStandard(_message.Message):
    __slots__ = ("standard_id", "description", "broken")
    STANDARD_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BROKEN_FIELD_NUMBER: _ClassVar[int]
    standard_id: str
    description: str
    broken: int
    def __init__(self, standard_id: _Optional[str] = ..., description: _Optional[str] = ..., broken: _Optional[int] = ...) -> None: ...

class StageView(_message.Message):
    __slots__ = ("stage", "name", "side", "on_route", "moments", "wins", "losses", "unscored", "win_rate", "most_broken", "quadrant", "procedural_score", "personal_score", "areas", "dimensions")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ON_ROUTE_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    UNSCORED_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    MOST_BROKEN_FIELD_NUMBER: _ClassVar[int]
    QUADRANT_FIELD_NUMBER: _ClassVar[int]
    PROCEDURAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    AREAS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    name: str
    side: _events_pb2.Side
    on_route: bool
    moments: int
    wins: int
    losses: int
    unscored: int
    win_rate: float
    most_broken: _containers.RepeatedCompositeFieldContainer[BrokenStandard]
    quadrant: _events_pb2.Quadrant
    procedural_score: float
    personal_score: float
    areas: _containers.RepeatedCompositeFieldContainer[LabelScore]
    dimensions: _containers.RepeatedCompositeFieldContainer[LabelScore]
    def __init__(self, stage: _Optional[str] = ..., name: _Optional[str] = ..., side: _Optional[_Union[_events_pb2.Side, str]] = ..., on_route: _Optional[bool] = ..., moments: _Optional[int] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., unscored: _Optional[int] = ..., win_rate: _Optional[float] = ..., most_broken: _Optional[_Iterable[_Union[BrokenStandard, _Mapping]]] = ..., quadrant: _Optional[_Union[_events_pb2.Quadrant, str]] = ..., procedural_score: _Optional[float] = ..., personal_score: _Optional[float] = ..., areas: _Optional[_Iterable[_Union[LabelScore, _Mapping]]] = ..., dimensions: _Optional[_Iterable[_Union[LabelScore, _Mapping]]] = ...) -> None: ...

class LabelScore(_message.Message):
    __slots__ = ("name", "weight", "met", "share")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MET_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    met: float
    share: float
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ..., met: _Optional[float] = ..., share: _Optional[float] = ...) -> None: ...

class JourneyMapView(_message.Message):
    __slots__ = ("journey_map", "name", "site_id", "first_day", "last_day", "stages", "whole_map", "teams")
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_DAY_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    WHOLE_MAP_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    journey_map: str
    name: str
    site_id: str
    first_day: str
    last_day: str
    stages: _containers.RepeatedCompositeFieldContainer[StageView]
    whole_map: StageView
    teams: _containers.RepeatedCompositeFieldContainer[StageView]
    def __init__(self, journey_map: _Optional[str] = ..., name: _Optional[str] = ..., site_id: _Optional[str] = ..., first_day: _Optional[str] = ..., last_day: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[StageView, _Mapping]]] = ..., whole_map: _Optional[_Union[StageView, _Mapping]] = ..., teams: _Optional[_Iterable[_Union[StageView, _Mapping]]] = ...) -> None: ...
