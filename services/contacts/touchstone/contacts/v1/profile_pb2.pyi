import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.annotations.v1 import personal_pb2 as _personal_pb2
from touchstone.contacts.v1 import touchpoint_pb2 as _touchpoint_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_KIND_UNSPECIFIED: _ClassVar[CustomerKind]
    CUSTOMER_KIND_EXTERNAL: _ClassVar[CustomerKind]
    CUSTOMER_KIND_INTERNAL: _ClassVar[CustomerKind]

class CustomerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_STATUS_UNSPECIFIED: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_PROVISIONAL: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_REGISTERED: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_ERASED: _ClassVar[CustomerStatus]

class ConsentChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_CHANNEL_UNSPECIFIED: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_EMAIL: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_SMS: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_PHONE: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_PUSH: _ClassVar[ConsentChannel]
CUSTOMER_KIND_UNSPECIFIED: CustomerKind
CUSTOMER_KIND_EXTERNAL: CustomerKind
CUSTOMER_KIND_INTERNAL: CustomerKind
CUSTOMER_STATUS_UNSPECIFIED: CustomerStatus
CUSTOMER_STATUS_PROVISIONAL: CustomerStatus
CUSTOMER_STATUS_REGISTERED: CustomerStatus
CUSTOMER_STATUS_ERASED: CustomerStatus
CONSENT_CHANNEL_UNSPECIFIED: ConsentChannel
CONSENT_CHANNEL_EMAIL: ConsentChannel
CONSENT_CHANNEL_SMS: ConsentChannel
CONSENT_CHANNEL_PHONE: ConsentChannel
CONSENT_CHANNEL_PUSH: ConsentChannel

class ChannelConsent(_message.Message):
    __slots__ = ("channel", "granted")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    channel: ConsentChannel
    granted: bool
    def __init__(self, channel: _Optional[_Union[ConsentChannel, str]] = ..., granted: _Optional[bool] = ...) -> None: ...

class QuietHours(_message.Message):
    __slots__ = ("start", "end", "time_zone")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    time_zone: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class Consent(_message.Message):
    __slots__ = ("channels", "quiet_hours", "preferred_language")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    QUIET_HOURS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[ChannelConsent]
    quiet_hours: QuietHours
    preferred_language: str
    def __init__(self, channels: _Optional[_Iterable[_Union[ChannelConsent, _Mapping]]] = ..., quiet_hours: _Optional[_Union[QuietHours, _Mapping]] = ..., preferred_language: _Optional[str] = ...) -> None: ...

class Profile(_message.Message):
    __slots__ = ("display_name", "kind", "department")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    kind: CustomerKind
    department: str
    def __init__(self, display_name: _Optional[str] = ..., kind: _Optional[_Union[CustomerKind, str]] = ..., department: _Optional[str] = ...) -> None: ...

class SealedIdentity(_message.Message):
    __slots__ = ("kind", "nonce", "ciphertext")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    kind: _touchpoint_pb2.IdentityKind
    nonce: bytes
    ciphertext: bytes
    def __init__(self, kind: _Optional[_Union[_touchpoint_pb2.IdentityKind, str]] = ..., nonce: _Optional[bytes] = ..., ciphertext: _Optional[bytes] = ...) -> None: ...

class CustomerRegistered(_message.Message):
    __slots__ = ("customer_id", "profile", "identities", "consent", "sealed_identities")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    profile: Profile
    identities: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.ExternalIdentity]
    consent: Consent
    sealed_identities: _containers.RepeatedCompositeFieldContainer[SealedIdentity]
    def __init__(self, customer_id: _Optional[str] = ..., profile: _Optional[_Union[Profile, _Mapping]] = ..., identities: _Optional[_Iterable[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]]] = ..., consent: _Optional[_Union[Consent, _Mapping]] = ..., sealed_identities: _Optional[_Iterable[_Union[SealedIdentity, _Mapping]]] = ...) -> None: ...

class CustomerUpdated(_message.Message):
    __slots__ = ("customer_id", "profile", "added_identities", "sealed_identities")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    ADDED_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    profile: Profile
    added_identities: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.ExternalIdentity]
    sealed_identities: _containers.RepeatedCompositeFieldContainer[SealedIdentity]
    def __init__(self, customer_id: _Optional[str] = ..., profile: _Optional[_Union[Profile, _Mapping]] = ..., added_identities: _Optional[_Iterable[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]]] = ..., sealed_identities: _Optional[_Iterable[_Union[SealedIdentity, _Mapping]]] = ...) -> None: ...

class ConsentChanged(_message.Message):
    __slots__ = ("customer_id", "consent")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    consent: Consent
    def __init__(self, customer_id: _Optional[str] = ..., consent: _Optional[_Union[Consent, _Mapping]] = ...) -> None: ...

class CustomerErased(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class CustomersMerged(_message.Message):
    __slots__ = ("merge_id", "survivor_id", "absorbed_id", "reason")
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    ABSORBED_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    merge_id: str
    survivor_id: str
    absorbed_id: str
    reason: str
    def __init__(self, merge_id: _Optional[str] = ..., survivor_id: _Optional[str] = ..., absorbed_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CustomersUnmerged(_message.Message):
    __slots__ = ("merge_id", "survivor_id", "absorbed_id", "reason")
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    ABSORBED_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    merge_id: str
    survivor_id: str
    absorbed_id: str
    reason: str
    def __init__(self, merge_id: _Optional[str] = ..., survivor_id: _Optional[str] = ..., absorbed_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CustomerEvent(_message.Message):
    __slots__ = ("event_id", "at", "registered", "updated", "consent_changed", "erased", "merged", "unmerged")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    CONSENT_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ERASED_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    UNMERGED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    at: _timestamp_pb2.Timestamp
    registered: CustomerRegistered
    updated: CustomerUpdated
    consent_changed: ConsentChanged
    erased: CustomerErased
    merged: CustomersMerged
    unmerged: CustomersUnmerged
    def __init__(self, event_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registered: _Optional[_Union[CustomerRegistered, _Mapping]] = ..., updated: _Optional[_Union[CustomerUpdated, _Mapping]] = ..., consent_changed: _Optional[_Union[ConsentChanged, _Mapping]] = ..., erased: _Optional[_Union[CustomerErased, _Mapping]] = ..., merged: _Optional[_Union[CustomersMerged, _Mapping]] = ..., unmerged: _Optional[_Union[CustomersUnmerged, _Mapping]] = ...) -> None: ...

class CustomerKey(_message.Message):
    __slots__ = ("customer_id", "key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    key: bytes
    def __init__(self, customer_id: _Optional[str] = ..., key: _Optional[bytes] = ...) -> None: ...
