import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.annotations.v1 import personal_pb2 as _personal_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_WIN: _ClassVar[Verdict]
    VERDICT_LOSE: _ClassVar[Verdict]
    VERDICT_UNSCORED: _ClassVar[Verdict]

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_PROCEDURAL: _ClassVar[Side]
    SIDE_PERSONAL: _ClassVar[Side]

class ServiceLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_LEVEL_UNSPECIFIED: _ClassVar[ServiceLevel]
    SERVICE_LEVEL_DISAPPOINTING: _ClassVar[ServiceLevel]
    SERVICE_LEVEL_BASIC: _ClassVar[ServiceLevel]
    SERVICE_LEVEL_AS_EXPECTED: _ClassVar[ServiceLevel]
    SERVICE_LEVEL_DESIRED: _ClassVar[ServiceLevel]
    SERVICE_LEVEL_SURPRISING: _ClassVar[ServiceLevel]
    SERVICE_LEVEL_UNFORGETTABLE: _ClassVar[ServiceLevel]

class Quadrant(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUADRANT_UNSPECIFIED: _ClassVar[Quadrant]
    QUADRANT_A_COLD: _ClassVar[Quadrant]
    QUADRANT_B_PRODUCTION_LINE: _ClassVar[Quadrant]
    QUADRANT_C_FRIENDLY_DISORGANISED: _ClassVar[Quadrant]
    QUADRANT_D_QUALITY: _ClassVar[Quadrant]
VERDICT_UNSPECIFIED: Verdict
VERDICT_WIN: Verdict
VERDICT_LOSE: Verdict
VERDICT_UNSCORED: Verdict
SIDE_UNSPECIFIED: Side
SIDE_PROCEDURAL: Side
SIDE_PERSONAL: Side
SERVICE_LEVEL_UNSPECIFIED: ServiceLevel
SERVICE_LEVEL_DISAPPOINTING: ServiceLevel
SERVICE_LEVEL_BASIC: ServiceLevel
SERVICE_LEVEL_AS_EXPECTED: ServiceLevel
SERVICE_LEVEL_DESIRED: ServiceLevel
SERVICE_LEVEL_SURPRISING: ServiceLevel
SERVICE_LEVEL_UNFORGETTABLE: ServiceLevel
QUADRANT_UNSPECIFIED: Quadrant
QUADRANT_A_COLD: Quadrant
QUADRANT_B_PRODUCTION_LINE: Quadrant
QUADRANT_C_FRIENDLY_DISORGANISED: Quadrant
QUADRANT_D_QUALITY: Quadrant

class StandardResult(_message.Message):
    __slots__ = ("standard_id", "description", "met", "measurement", "measured", "threshold", "comparator", "side", "area", "surprised", "weight", "dimension", "absent")
    STANDARD_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MET_FIELD_NUMBER: _ClassVar[int]
    MEASUREMENT_FIELD_NUMBER: _ClassVar[int]
    MEASURED_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    COMPARATOR_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    SURPRISED_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    ABSENT_FIELD_NUMBER: _ClassVar[int]
    standard_id: str
    description: str
    met: bool
    measurement: str
    measured: float
    threshold: float
    comparator: str
    side: Side
    area: str
    surprised: bool
    weight: float
    dimension: str
    absent: bool
    def __init__(self, standard_id: _Optional[str] = ..., description: _Optional[str] = ..., met: _Optional[bool] = ..., measurement: _Optional[str] = ..., measured: _Optional[float] = ..., threshold: _Optional[float] = ..., comparator: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., area: _Optional[str] = ..., surprised: _Optional[bool] = ..., weight: _Optional[float] = ..., dimension: _Optional[str] = ..., absent: _Optional[bool] = ...) -> None: ...

class MomentScored(_message.Message):
    __slots__ = ("moment_id", "source_event_id", "customer_id", "visit_id", "site_id", "journey_map", "stage", "occurred_at", "verdict", "results", "standards_version", "reason")
    MOMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    STANDARDS_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    moment_id: str
    source_event_id: str
    customer_id: str
    visit_id: str
    site_id: str
    journey_map: str
    stage: str
    occurred_at: _timestamp_pb2.Timestamp
    verdict: Verdict
    results: _containers.RepeatedCompositeFieldContainer[StandardResult]
    standards_version: str
    reason: str
    def __init__(self, moment_id: _Optional[str] = ..., source_event_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., site_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., stage: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., results: _Optional[_Iterable[_Union[StandardResult, _Mapping]]] = ..., standards_version: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class VisitCompleted(_message.Message):
    __slots__ = ("event_id", "visit_id", "customer_id", "site_id", "journey_map", "first_at", "last_at", "wins", "losses", "surprises", "level", "perception", "expectation", "satisfaction", "quadrant", "procedural_score", "personal_score", "completed_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    FIRST_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_AT_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    SURPRISES_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PERCEPTION_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_FIELD_NUMBER: _ClassVar[int]
    QUADRANT_FIELD_NUMBER: _ClassVar[int]
    PROCEDURAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    visit_id: str
    customer_id: str
    site_id: str
    journey_map: str
    first_at: _timestamp_pb2.Timestamp
    last_at: _timestamp_pb2.Timestamp
    wins: int
    losses: int
    surprises: int
    level: ServiceLevel
    perception: float
    expectation: float
    satisfaction: float
    quadrant: Quadrant
    procedural_score: float
    personal_score: float
    completed_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., first_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., surprises: _Optional[int] = ..., level: _Optional[_Union[ServiceLevel, str]] = ..., perception: _Optional[float] = ..., expectation: _Optional[float] = ..., satisfaction: _Optional[float] = ..., quadrant: _Optional[_Union[Quadrant, str]] = ..., procedural_score: _Optional[float] = ..., personal_score: _Optional[float] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StandardChangeCount(_message.Message):
    __slots__ = ("standard_id", "transition", "moments")
    STANDARD_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    standard_id: str
    transition: str
    moments: int
    def __init__(self, standard_id: _Optional[str] = ..., transition: _Optional[str] = ..., moments: _Optional[int] = ...) -> None: ...

class RescoreSummary(_message.Message):
    __slots__ = ("since", "until", "moments", "verdicts_changed", "wins_to_losses", "losses_to_wins", "by_standard")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    VERDICTS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    WINS_TO_LOSSES_FIELD_NUMBER: _ClassVar[int]
    LOSSES_TO_WINS_FIELD_NUMBER: _ClassVar[int]
    BY_STANDARD_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    moments: int
    verdicts_changed: int
    wins_to_losses: int
    losses_to_wins: int
    by_standard: _containers.RepeatedCompositeFieldContainer[StandardChangeCount]
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., moments: _Optional[int] = ..., verdicts_changed: _Optional[int] = ..., wins_to_losses: _Optional[int] = ..., losses_to_wins: _Optional[int] = ..., by_standard: _Optional[_Iterable[_Union[StandardChangeCount, _Mapping]]] = ...) -> None: ...

class StandardsPromoted(_message.Message):
    __slots__ = ("event_id", "version", "previous_version", "standards_yaml", "reason", "promoted_by", "promoted_at", "rescored", "effective_from")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    STANDARDS_YAML_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_BY_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_AT_FIELD_NUMBER: _ClassVar[int]
    RESCORED_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    version: str
    previous_version: str
    standards_yaml: str
    reason: str
    promoted_by: str
    promoted_at: _timestamp_pb2.Timestamp
    rescored: RescoreSummary
    effective_from: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., version: _Optional[str] = ..., previous_version: _Optional[str] = ..., standards_yaml: _Optional[str] = ..., reason: _Optional[str] = ..., promoted_by: _Optional[str] = ..., promoted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rescored: _Optional[_Union[RescoreSummary, _Mapping]] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
