import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.contacts.v1 import touchpoint_pb2 as _touchpoint_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TouchpointRecorded(_message.Message):
    __slots__ = ("event_id", "touchpoint", "customer_id", "visit_id", "late")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    touchpoint: _touchpoint_pb2.Touchpoint
    customer_id: str
    visit_id: str
    late: bool
    def __init__(self, event_id: _Optional[str] = ..., touchpoint: _Optional[_Union[_touchpoint_pb2.Touchpoint, _Mapping]] = ..., customer_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., late: _Optional[bool] = ...) -> None: ...

class SourceProgress(_message.Message):
    __slots__ = ("topic", "partition", "partitions", "event_time")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    topic: str
    partition: int
    partitions: int
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, topic: _Optional[str] = ..., partition: _Optional[int] = ..., partitions: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
