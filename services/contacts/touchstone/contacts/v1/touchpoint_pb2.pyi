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

class IdentityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_KIND_UNSPECIFIED: _ClassVar[IdentityKind]
    IDENTITY_KIND_LOYALTY_CARD: _ClassVar[IdentityKind]
    IDENTITY_KIND_PHONE: _ClassVar[IdentityKind]
    IDENTITY_KIND_EMAIL: _ClassVar[IdentityKind]
    IDENTITY_KIND_ACCOUNT: _ClassVar[IdentityKind]

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_IN_STORE: _ClassVar[Channel]
    CHANNEL_PHONE: _ClassVar[Channel]
    CHANNEL_WEB: _ClassVar[Channel]
    CHANNEL_APP: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
IDENTITY_KIND_UNSPECIFIED: IdentityKind
IDENTITY_KIND_LOYALTY_CARD: IdentityKind
IDENTITY_KIND_PHONE: IdentityKind
IDENTITY_KIND_EMAIL: IdentityKind
IDENTITY_KIND_ACCOUNT: IdentityKind
CHANNEL_UNSPECIFIED: Channel
CHANNEL_IN_STORE: Channel
CHANNEL_PHONE: Channel
CHANNEL_WEB: Channel
CHANNEL_APP: Channel
CHANNEL_EMAIL: Channel

class ExternalIdentity(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: IdentityKind
    value: str
    def __init__(self, kind: _Optional[_Union[IdentityKind, str]] = ..., value: _Optional[str] = ...) -> None: ...

class CustomerRef(_message.Message):
    __slots__ = ("customer_id", "identity")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identity: ExternalIdentity
    def __init__(self, customer_id: _Optional[str] = ..., identity: _Optional[_Union[ExternalIdentity, _Mapping]] = ...) -> None: ...

class Money(_message.Message):
    __slots__ = ("currency", "minor_units")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    currency: str
    minor_units: int
    def __init__(self, currency: _Optional[str] = ..., minor_units: _Optional[int] = ...) -> None: ...

class Feedback(_message.Message):
    __slots__ = ("rating", "comment")
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    rating: int
    comment: str
    def __init__(self, rating: _Optional[int] = ..., comment: _Optional[str] = ...) -> None: ...

class Touchpoint(_message.Message):
    __slots__ = ("event_id", "occurred_at", "source", "customer", "channel", "site_id", "journey_map", "stage", "staff_id", "measurements", "observations", "purchase", "feedback", "visit_id")
    class MeasurementsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    MEASUREMENTS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    source: str
    customer: CustomerRef
    channel: Channel
    site_id: str
    journey_map: str
    stage: str
    staff_id: str
    measurements: _containers.ScalarMap[str, float]
    observations: _containers.RepeatedScalarFieldContainer[str]
    purchase: Money
    feedback: Feedback
    visit_id: str
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., customer: _Optional[_Union[CustomerRef, _Mapping]] = ..., channel: _Optional[_Union[Channel, str]] = ..., site_id: _Optional[str] = ..., journey_map: _Optional[str] = ..., stage: _Optional[str] = ..., staff_id: _Optional[str] = ..., measurements: _Optional[_Mapping[str, float]] = ..., observations: _Optional[_Iterable[str]] = ..., purchase: _Optional[_Union[Money, _Mapping]] = ..., feedback: _Optional[_Union[Feedback, _Mapping]] = ..., visit_id: _Optional[str] = ...) -> None: ...
