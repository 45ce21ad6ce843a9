import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.loyalty.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCustomerValueRequest(_message.Message):
    __slots__ = ("customer_id", "history_limit")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    history_limit: int
    def __init__(self, customer_id: _Optional[str] = ..., history_limit: _Optional[int] = ...) -> None: ...

class GetValueAtRiskRequest(_message.Message):
    __slots__ = ("site_id", "since", "until")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, site_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ValueAtRiskTotal(_message.Message):
    __slots__ = ("currency", "at_stake_minor", "saved_minor", "lost_moments", "recovered_moments")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AT_STAKE_MINOR_FIELD_NUMBER: _ClassVar[int]
    SAVED_MINOR_FIELD_NUMBER: _ClassVar[int]
    LOST_MOMENTS_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_MOMENTS_FIELD_NUMBER: _ClassVar[int]
    currency: str
    at_stake_minor: int
    saved_minor: int
    lost_moments: int
    recovered_moments: int
    def __init__(self, currency: _Optional[str] = ..., at_stake_minor: _Optional[int] = ..., saved_minor: _Optional[int] = ..., lost_moments: _Optional[int] = ..., recovered_moments: _Optional[int] = ...) -> None: ...

class GetValueAtRiskResponse(_message.Message):
    __slots__ = ("totals",)
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    totals: _containers.RepeatedCompositeFieldContainer[ValueAtRiskTotal]
    def __init__(self, totals: _Optional[_Iterable[_Union[ValueAtRiskTotal, _Mapping]]] = ...) -> None: ...

class ListTopCustomersRequest(_message.Message):
    __slots__ = ("site_id", "n", "tier")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    n: int
    tier: str
    def __init__(self, site_id: _Optional[str] = ..., n: _Optional[int] = ..., tier: _Optional[str] = ...) -> None: ...

class TopCustomer(_message.Message):
    __slots__ = ("customer_id", "rank", "tier", "currency", "lifetime_value_minor", "churn_risk")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CHURN_RISK_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    rank: int
    tier: str
    currency: str
    lifetime_value_minor: int
    churn_risk: float
    def __init__(self, customer_id: _Optional[str] = ..., rank: _Optional[int] = ..., tier: _Optional[str] = ..., currency: _Optional[str] = ..., lifetime_value_minor: _Optional[int] = ..., churn_risk: _Optional[float] = ...) -> None: ...

class ListTopCustomersResponse(_message.Message):
    __slots__ = ("customers", "site_customers")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    SITE_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[TopCustomer]
    site_customers: int
    def __init__(self, customers: _Optional[_Iterable[_Union[TopCustomer, _Mapping]]] = ..., site_customers: _Optional[int] = ...) -> None: ...

class WatchValuesRequest(_message.Message):
    __slots__ = ("customer_id", "site_id", "at_risk_only")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_ONLY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    site_id: str
    at_risk_only: bool
    def __init__(self, customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., at_risk_only: _Optional[bool] = ...) -> None: ...

class WatchValuesResponse(_message.Message):
    __slots__ = ("update", "missed", "published_at")
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    update: _events_pb2.ValueUpdated
    missed: int
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, update: _Optional[_Union[_events_pb2.ValueUpdated, _Mapping]] = ..., missed: _Optional[int] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
