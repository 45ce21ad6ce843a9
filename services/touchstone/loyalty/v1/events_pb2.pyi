import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerValue(_message.Message):
    __slots__ = ("customer_id", "currency", "average_spend_minor", "purchases", "visits", "visits_per_year", "expected_years", "lifetime_value_minor", "as_of")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SPEND_MINOR_FIELD_NUMBER: _ClassVar[int]
    PURCHASES_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    VISITS_PER_YEAR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_YEARS_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    currency: str
    average_spend_minor: int
    purchases: int
    visits: int
    visits_per_year: float
    expected_years: float
    lifetime_value_minor: int
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., currency: _Optional[str] = ..., average_spend_minor: _Optional[int] = ..., purchases: _Optional[int] = ..., visits: _Optional[int] = ..., visits_per_year: _Optional[float] = ..., expected_years: _Optional[float] = ..., lifetime_value_minor: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ValueUpdated(_message.Message):
    __slots__ = ("event_id", "value")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    value: CustomerValue
    def __init__(self, event_id: _Optional[str] = ..., value: _Optional[_Union[CustomerValue, _Mapping]] = ...) -> None: ...
