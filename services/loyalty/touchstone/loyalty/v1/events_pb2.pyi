import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ValueChangeCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_CHANGE_CAUSE_UNSPECIFIED: _ClassVar[ValueChangeCause]
    VALUE_CHANGE_CAUSE_PURCHASE: _ClassVar[ValueChangeCause]
    VALUE_CHANGE_CAUSE_LOST_MOMENT: _ClassVar[ValueChangeCause]
    VALUE_CHANGE_CAUSE_RECOVERY: _ClassVar[ValueChangeCause]
VALUE_CHANGE_CAUSE_UNSPECIFIED: ValueChangeCause
VALUE_CHANGE_CAUSE_PURCHASE: ValueChangeCause
VALUE_CHANGE_CAUSE_LOST_MOMENT: ValueChangeCause
VALUE_CHANGE_CAUSE_RECOVERY: ValueChangeCause

class CustomerValue(_message.Message):
    __slots__ = ("customer_id", "currency", "average_spend_minor", "purchases", "visits", "visits_per_year", "expected_years", "lifetime_value_minor", "as_of", "churn_risk", "site_id", "silent", "tier", "rank", "site_customers", "at_risk", "history")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SPEND_MINOR_FIELD_NUMBER: _ClassVar[int]
    PURCHASES_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    VISITS_PER_YEAR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_YEARS_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CHURN_RISK_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SILENT_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SITE_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    currency: str
    average_spend_minor: int
    purchases: int
    visits: int
    visits_per_year: float
    expected_years: float
    lifetime_value_minor: int
    as_of: _timestamp_pb2.Timestamp
    churn_risk: float
    site_id: str
    silent: bool
    tier: str
    rank: int
    site_customers: int
    at_risk: _containers.RepeatedCompositeFieldContainer[ValueAtRisk]
    history: _containers.RepeatedCompositeFieldContainer[ValueChange]
    def __init__(self, customer_id: _Optional[str] = ..., currency: _Optional[str] = ..., average_spend_minor: _Optional[int] = ..., purchases: _Optional[int] = ..., visits: _Optional[int] = ..., visits_per_year: _Optional[float] = ..., expected_years: _Optional[float] = ..., lifetime_value_minor: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., churn_risk: _Optional[float] = ..., site_id: _Optional[str] = ..., silent: _Optional[bool] = ..., tier: _Optional[str] = ..., rank: _Optional[int] = ..., site_customers: _Optional[int] = ..., at_risk: _Optional[_Iterable[_Union[ValueAtRisk, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[ValueChange, _Mapping]]] = ...) -> None: ...

class ValueChange(_message.Message):
    __slots__ = ("at", "cause", "cause_id", "site_id", "amount_minor", "currency", "lifetime_value_before_minor", "lifetime_value_after_minor", "churn_risk_before", "churn_risk_after")
    AT_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    CHURN_RISK_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CHURN_RISK_AFTER_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    cause: ValueChangeCause
    cause_id: str
    site_id: str
    amount_minor: int
    currency: str
    lifetime_value_before_minor: int
    lifetime_value_after_minor: int
    churn_risk_before: float
    churn_risk_after: float
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause: _Optional[_Union[ValueChangeCause, str]] = ..., cause_id: _Optional[str] = ..., site_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., lifetime_value_before_minor: _Optional[int] = ..., lifetime_value_after_minor: _Optional[int] = ..., churn_risk_before: _Optional[float] = ..., churn_risk_after: _Optional[float] = ...) -> None: ...

class ValueAtRisk(_message.Message):
    __slots__ = ("moment_id", "site_id", "occurred_at", "currency", "lifetime_value_minor", "risk_before", "risk_after", "value_at_risk_minor", "recovered", "remaining_minor")
    MOMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    RISK_BEFORE_FIELD_NUMBER: _ClassVar[int]
    RISK_AFTER_FIELD_NUMBER: _ClassVar[int]
    VALUE_AT_RISK_MINOR_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_MINOR_FIELD_NUMBER: _ClassVar[int]
    moment_id: str
    site_id: str
    occurred_at: _timestamp_pb2.Timestamp
    currency: str
    lifetime_value_minor: int
    risk_before: float
    risk_after: float
    value_at_risk_minor: int
    recovered: bool
    remaining_minor: int
    def __init__(self, moment_id: _Optional[str] = ..., site_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ..., lifetime_value_minor: _Optional[int] = ..., risk_before: _Optional[float] = ..., risk_after: _Optional[float] = ..., value_at_risk_minor: _Optional[int] = ..., recovered: _Optional[bool] = ..., remaining_minor: _Optional[int] = ...) -> None: ...

class TierChange(_message.Message):
    __slots__ = ("site_id", "tier", "previous_tier", "rank", "site_customers", "currency", "lifetime_value_minor")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TIER_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SITE_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    tier: str
    previous_tier: str
    rank: int
    site_customers: int
    currency: str
    lifetime_value_minor: int
    def __init__(self, site_id: _Optional[str] = ..., tier: _Optional[str] = ..., previous_tier: _Optional[str] = ..., rank: _Optional[int] = ..., site_customers: _Optional[int] = ..., currency: _Optional[str] = ..., lifetime_value_minor: _Optional[int] = ...) -> None: ...

class ValueUpdated(_message.Message):
    __slots__ = ("event_id", "value", "at_risk", "tier_change")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_FIELD_NUMBER: _ClassVar[int]
    TIER_CHANGE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    value: CustomerValue
    at_risk: ValueAtRisk
    tier_change: TierChange
    def __init__(self, event_id: _Optional[str] = ..., value: _Optional[_Union[CustomerValue, _Mapping]] = ..., at_risk: _Optional[_Union[ValueAtRisk, _Mapping]] = ..., tier_change: _Optional[_Union[TierChange, _Mapping]] = ...) -> None: ...
