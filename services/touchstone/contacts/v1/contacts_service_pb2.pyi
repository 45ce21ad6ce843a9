import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.contacts.v1 import touchpoint_pb2 as _touchpoint_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("customer_id", "identities", "touchpoint_count", "first_seen", "last_seen")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identities: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.ExternalIdentity]
    touchpoint_count: int
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., identities: _Optional[_Iterable[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]]] = ..., touchpoint_count: _Optional[int] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListTouchpointsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RecordedTouchpoint(_message.Message):
    __slots__ = ("touchpoint", "customer_id", "visit_id")
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    touchpoint: _touchpoint_pb2.Touchpoint
    customer_id: str
    visit_id: str
    def __init__(self, touchpoint: _Optional[_Union[_touchpoint_pb2.Touchpoint, _Mapping]] = ..., customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ...) -> None: ...

class ListTouchpointsResponse(_message.Message):
    __slots__ = ("touchpoints", "next_page_token")
    TOUCHPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    touchpoints: _containers.RepeatedCompositeFieldContainer[RecordedTouchpoint]
    next_page_token: str
    def __init__(self, touchpoints: _Optional[_Iterable[_Union[RecordedTouchpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetIngestStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class IngestStats(_message.Message):
    __slots__ = ("recorded", "dead_lettered")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    dead_lettered: int
    def __init__(self, recorded: _Optional[int] = ..., dead_lettered: _Optional[int] = ...) -> None: ...
