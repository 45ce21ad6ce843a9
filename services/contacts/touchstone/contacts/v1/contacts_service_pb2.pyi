import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from touchstone.annotations.v1 import personal_pb2 as _personal_pb2
from touchstone.contacts.v1 import profile_pb2 as _profile_pb2
from touchstone.contacts.v1 import touchpoint_pb2 as _touchpoint_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IngestStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INGEST_STATUS_UNSPECIFIED: _ClassVar[IngestStatus]
    INGEST_STATUS_ACCEPTED: _ClassVar[IngestStatus]
    INGEST_STATUS_DUPLICATE: _ClassVar[IngestStatus]
    INGEST_STATUS_REJECTED: _ClassVar[IngestStatus]
    INGEST_STATUS_CONFLICT: _ClassVar[IngestStatus]
INGEST_STATUS_UNSPECIFIED: IngestStatus
INGEST_STATUS_ACCEPTED: IngestStatus
INGEST_STATUS_DUPLICATE: IngestStatus
INGEST_STATUS_REJECTED: IngestStatus
INGEST_STATUS_CONFLICT: IngestStatus

class IngestRequest(_message.Message):
    __slots__ = ("touchpoint",)
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    touchpoint: _touchpoint_pb2.Touchpoint
    def __init__(self, touchpoint: _Optional[_Union[_touchpoint_pb2.Touchpoint, _Mapping]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class IngestResult(_message.Message):
    __slots__ = ("event_id", "status", "violations", "customer_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    status: IngestStatus
    violations: _containers.RepeatedCompositeFieldContainer[FieldViolation]
    customer_id: str
    def __init__(self, event_id: _Optional[str] = ..., status: _Optional[_Union[IngestStatus, str]] = ..., violations: _Optional[_Iterable[_Union[FieldViolation, _Mapping]]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class IngestBatchRequest(_message.Message):
    __slots__ = ("touchpoints",)
    TOUCHPOINTS_FIELD_NUMBER: _ClassVar[int]
    touchpoints: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.Touchpoint]
    def __init__(self, touchpoints: _Optional[_Iterable[_Union[_touchpoint_pb2.Touchpoint, _Mapping]]] = ...) -> None: ...

class IngestBatchResponse(_message.Message):
    __slots__ = ("results", "accepted", "duplicates", "rejected", "conflicts")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[IngestResult]
    accepted: int
    duplicates: int
    rejected: int
    conflicts: int
    def __init__(self, results: _Optional[_Iterable[_Union[IngestResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ..., conflicts: _Optional[int] = ...) -> None: ...

class DeadLetterFilter(_message.Message):
    __slots__ = ("reason_contains", "field", "source", "since", "until", "include_redriven")
    REASON_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REDRIVEN_FIELD_NUMBER: _ClassVar[int]
    reason_contains: str
    field: str
    source: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    include_redriven: bool
    def __init__(self, reason_contains: _Optional[str] = ..., field: _Optional[str] = ..., source: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_redriven: _Optional[bool] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: bytes
    def __init__(self, name: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("id", "topic", "partition", "offset", "reason", "field", "source", "received_at", "redriven_at", "key", "value", "headers")
    ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REDRIVEN_AT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    topic: str
    partition: int
    offset: int
    reason: str
    field: str
    source: str
    received_at: _timestamp_pb2.Timestamp
    redriven_at: _timestamp_pb2.Timestamp
    key: bytes
    value: bytes
    headers: _containers.RepeatedCompositeFieldContainer[Header]
    def __init__(self, id: _Optional[str] = ..., topic: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ..., reason: _Optional[str] = ..., field: _Optional[str] = ..., source: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., redriven_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., headers: _Optional[_Iterable[_Union[Header, _Mapping]]] = ...) -> None: ...

class DeadLetterCount(_message.Message):
    __slots__ = ("field", "source", "count")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    field: str
    source: str
    count: int
    def __init__(self, field: _Optional[str] = ..., source: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("filter", "page_size", "page_token")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: DeadLetterFilter
    page_size: int
    page_token: str
    def __init__(self, filter: _Optional[_Union[DeadLetterFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "next_page_token", "total", "counts")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    next_page_token: str
    total: int
    counts: _containers.RepeatedCompositeFieldContainer[DeadLetterCount]
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ..., counts: _Optional[_Iterable[_Union[DeadLetterCount, _Mapping]]] = ...) -> None: ...

class GetDeadLetterRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RedriveDeadLettersRequest(_message.Message):
    __slots__ = ("filter", "ids", "only_valid_now", "dry_run")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    ONLY_VALID_NOW_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    filter: DeadLetterFilter
    ids: _containers.RepeatedScalarFieldContainer[str]
    only_valid_now: bool
    dry_run: bool
    def __init__(self, filter: _Optional[_Union[DeadLetterFilter, _Mapping]] = ..., ids: _Optional[_Iterable[str]] = ..., only_valid_now: _Optional[bool] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class RedriveDeadLettersResponse(_message.Message):
    __slots__ = ("redriven", "still_invalid")
    REDRIVEN_FIELD_NUMBER: _ClassVar[int]
    STILL_INVALID_FIELD_NUMBER: _ClassVar[int]
    redriven: _containers.RepeatedScalarFieldContainer[str]
    still_invalid: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, redriven: _Optional[_Iterable[str]] = ..., still_invalid: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("customer_id", "identities", "touchpoint_count", "first_seen", "last_seen", "status", "profile", "consent", "merged_customer_ids")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    MERGED_CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identities: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.ExternalIdentity]
    touchpoint_count: int
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    status: _profile_pb2.CustomerStatus
    profile: _profile_pb2.Profile
    consent: _profile_pb2.Consent
    merged_customer_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., identities: _Optional[_Iterable[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]]] = ..., touchpoint_count: _Optional[int] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[_profile_pb2.CustomerStatus, str]] = ..., profile: _Optional[_Union[_profile_pb2.Profile, _Mapping]] = ..., consent: _Optional[_Union[_profile_pb2.Consent, _Mapping]] = ..., merged_customer_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterCustomerRequest(_message.Message):
    __slots__ = ("customer_id", "profile", "identities", "consent")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    profile: _profile_pb2.Profile
    identities: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.ExternalIdentity]
    consent: _profile_pb2.Consent
    def __init__(self, customer_id: _Optional[str] = ..., profile: _Optional[_Union[_profile_pb2.Profile, _Mapping]] = ..., identities: _Optional[_Iterable[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]]] = ..., consent: _Optional[_Union[_profile_pb2.Consent, _Mapping]] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("customer_id", "profile", "add_identities")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    ADD_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    profile: _profile_pb2.Profile
    add_identities: _containers.RepeatedCompositeFieldContainer[_touchpoint_pb2.ExternalIdentity]
    def __init__(self, customer_id: _Optional[str] = ..., profile: _Optional[_Union[_profile_pb2.Profile, _Mapping]] = ..., add_identities: _Optional[_Iterable[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]]] = ...) -> None: ...

class UpdateConsentRequest(_message.Message):
    __slots__ = ("customer_id", "consent")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    consent: _profile_pb2.Consent
    def __init__(self, customer_id: _Optional[str] = ..., consent: _Optional[_Union[_profile_pb2.Consent, _Mapping]] = ...) -> None: ...

class EraseCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class EraseCustomerResponse(_message.Message):
    __slots__ = ("customer_id", "identities_removed", "touchpoints_scrubbed", "dead_letters_scrubbed")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINTS_SCRUBBED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_SCRUBBED_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identities_removed: int
    touchpoints_scrubbed: int
    dead_letters_scrubbed: int
    def __init__(self, customer_id: _Optional[str] = ..., identities_removed: _Optional[int] = ..., touchpoints_scrubbed: _Optional[int] = ..., dead_letters_scrubbed: _Optional[int] = ...) -> None: ...

class MergeCustomersRequest(_message.Message):
    __slots__ = ("survivor_id", "absorbed_id", "reason")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    ABSORBED_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    absorbed_id: str
    reason: str
    def __init__(self, survivor_id: _Optional[str] = ..., absorbed_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UnmergeCustomersRequest(_message.Message):
    __slots__ = ("customer_id", "reason")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    reason: str
    def __init__(self, customer_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UnmergeCustomersResponse(_message.Message):
    __slots__ = ("survivor", "restored")
    SURVIVOR_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FIELD_NUMBER: _ClassVar[int]
    survivor: Customer
    restored: Customer
    def __init__(self, survivor: _Optional[_Union[Customer, _Mapping]] = ..., restored: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class FindCustomerRequest(_message.Message):
    __slots__ = ("identity",)
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    identity: _touchpoint_pb2.ExternalIdentity
    def __init__(self, identity: _Optional[_Union[_touchpoint_pb2.ExternalIdentity, _Mapping]] = ...) -> None: ...

class ListTouchpointsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token", "since", "until")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("recorded", "dead_lettered", "vocabulary_gaps")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    VOCABULARY_GAPS_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    dead_lettered: int
    vocabulary_gaps: _containers.RepeatedCompositeFieldContainer[VocabularyGap]
    def __init__(self, recorded: _Optional[int] = ..., dead_lettered: _Optional[int] = ..., vocabulary_gaps: _Optional[_Iterable[_Union[VocabularyGap, _Mapping]]] = ...) -> None: ...

class VocabularyGap(_message.Message):
    __slots__ = ("source", "journey_map", "stage", "kind", "name", "touchpoints")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    JOURNEY_MAP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINTS_FIELD_NUMBER: _ClassVar[int]
    source: str
    journey_map: str
    stage: str
    kind: str
    name: str
    touchpoints: int
    def __init__(self, source: _Optional[str] = ..., journey_map: _Optional[str] = ..., stage: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., touchpoints: _Optional[int] = ...) -> None: ...
