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

class CaseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASE_STATUS_UNSPECIFIED: _ClassVar[CaseStatus]
    CASE_STATUS_OPEN: _ClassVar[CaseStatus]
    CASE_STATUS_RECOVERED: _ClassVar[CaseStatus]
    CASE_STATUS_LOST: _ClassVar[CaseStatus]

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATE_UNSPECIFIED: _ClassVar[TaskState]
    TASK_STATE_OPEN: _ClassVar[TaskState]
    TASK_STATE_DONE: _ClassVar[TaskState]
    TASK_STATE_CANCELLED: _ClassVar[TaskState]
CASE_STATUS_UNSPECIFIED: CaseStatus
CASE_STATUS_OPEN: CaseStatus
CASE_STATUS_RECOVERED: CaseStatus
CASE_STATUS_LOST: CaseStatus
TASK_STATE_UNSPECIFIED: TaskState
TASK_STATE_OPEN: TaskState
TASK_STATE_DONE: TaskState
TASK_STATE_CANCELLED: TaskState

class CaseStep(_message.Message):
    __slots__ = ("n", "action", "owner", "channel", "due_at", "status", "taken_by")
    N_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TAKEN_BY_FIELD_NUMBER: _ClassVar[int]
    n: int
    action: str
    owner: str
    channel: str
    due_at: _timestamp_pb2.Timestamp
    status: str
    taken_by: str
    def __init__(self, n: _Optional[int] = ..., action: _Optional[str] = ..., owner: _Optional[str] = ..., channel: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., taken_by: _Optional[str] = ...) -> None: ...

class CaseOpened(_message.Message):
    __slots__ = ("case_id", "customer_id", "visit_id", "site_id", "moment_id", "stage", "reason", "opened_at", "due_at", "playbook", "steps")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    MOMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    customer_id: str
    visit_id: str
    site_id: str
    moment_id: str
    stage: str
    reason: str
    opened_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    playbook: str
    steps: _containers.RepeatedCompositeFieldContainer[CaseStep]
    def __init__(self, case_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., site_id: _Optional[str] = ..., moment_id: _Optional[str] = ..., stage: _Optional[str] = ..., reason: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., playbook: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[CaseStep, _Mapping]]] = ...) -> None: ...

class MomentJoined(_message.Message):
    __slots__ = ("case_id", "moment_id", "stage", "reason", "occurred_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MOMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    moment_id: str
    stage: str
    reason: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., moment_id: _Optional[str] = ..., stage: _Optional[str] = ..., reason: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CaseRecovered(_message.Message):
    __slots__ = ("case_id", "customer_id", "moment_ids", "recovered_at", "how", "by", "note")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MOMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_AT_FIELD_NUMBER: _ClassVar[int]
    HOW_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    customer_id: str
    moment_ids: _containers.RepeatedScalarFieldContainer[str]
    recovered_at: _timestamp_pb2.Timestamp
    how: str
    by: str
    note: str
    def __init__(self, case_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., moment_ids: _Optional[_Iterable[str]] = ..., recovered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., how: _Optional[str] = ..., by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class StepTaken(_message.Message):
    __slots__ = ("case_id", "n", "action", "completed", "by", "note", "at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    n: int
    action: str
    completed: bool
    by: str
    note: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., n: _Optional[int] = ..., action: _Optional[str] = ..., completed: _Optional[bool] = ..., by: _Optional[str] = ..., note: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StepDue(_message.Message):
    __slots__ = ("case_id", "n", "action", "owner", "due_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    n: int
    action: str
    owner: str
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., n: _Optional[int] = ..., action: _Optional[str] = ..., owner: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CaseEscalated(_message.Message):
    __slots__ = ("case_id", "customer_id", "site_id", "reason", "n", "at", "value_at_risk_minor", "currency")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    VALUE_AT_RISK_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    customer_id: str
    site_id: str
    reason: str
    n: int
    at: _timestamp_pb2.Timestamp
    value_at_risk_minor: int
    currency: str
    def __init__(self, case_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., reason: _Optional[str] = ..., n: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value_at_risk_minor: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class CaseLost(_message.Message):
    __slots__ = ("case_id", "customer_id", "moment_ids", "lost_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MOMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    LOST_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    customer_id: str
    moment_ids: _containers.RepeatedScalarFieldContainer[str]
    lost_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., moment_ids: _Optional[_Iterable[str]] = ..., lost_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CaseEvent(_message.Message):
    __slots__ = ("event_id", "opened", "joined", "recovered", "step_taken", "step_due", "escalated", "lost", "site_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_FIELD_NUMBER: _ClassVar[int]
    JOINED_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_FIELD_NUMBER: _ClassVar[int]
    STEP_TAKEN_FIELD_NUMBER: _ClassVar[int]
    STEP_DUE_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    opened: CaseOpened
    joined: MomentJoined
    recovered: CaseRecovered
    step_taken: StepTaken
    step_due: StepDue
    escalated: CaseEscalated
    lost: CaseLost
    site_id: str
    def __init__(self, event_id: _Optional[str] = ..., opened: _Optional[_Union[CaseOpened, _Mapping]] = ..., joined: _Optional[_Union[MomentJoined, _Mapping]] = ..., recovered: _Optional[_Union[CaseRecovered, _Mapping]] = ..., step_taken: _Optional[_Union[StepTaken, _Mapping]] = ..., step_due: _Optional[_Union[StepDue, _Mapping]] = ..., escalated: _Optional[_Union[CaseEscalated, _Mapping]] = ..., lost: _Optional[_Union[CaseLost, _Mapping]] = ..., site_id: _Optional[str] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "case_id", "site_id", "n", "action", "owner", "channel", "due_at", "reason", "state", "taken_by")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TAKEN_BY_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    case_id: str
    site_id: str
    n: int
    action: str
    owner: str
    channel: str
    due_at: _timestamp_pb2.Timestamp
    reason: str
    state: TaskState
    taken_by: str
    def __init__(self, task_id: _Optional[str] = ..., case_id: _Optional[str] = ..., site_id: _Optional[str] = ..., n: _Optional[int] = ..., action: _Optional[str] = ..., owner: _Optional[str] = ..., channel: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., state: _Optional[_Union[TaskState, str]] = ..., taken_by: _Optional[str] = ...) -> None: ...

class TaskEvent(_message.Message):
    __slots__ = ("event_id", "task")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    task: Task
    def __init__(self, event_id: _Optional[str] = ..., task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...
