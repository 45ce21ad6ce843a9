"""Personal data in replies: fields the contracts mark `(touchstone.annotations.v1.personal)` are
masked for callers whose roles may not see personal data (everyone but admin and service)."""

from __future__ import annotations

from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from touchstone.annotations.v1 import personal_pb2
from touchstone.platform.security.auth import Principal

MASK = "[personal]"
MASKABLE = frozenset({FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES})
MAY_SEE_PERSONAL_DATA = frozenset({"admin", "service"})


def may_see_personal_data(caller: Principal | None) -> bool:
    """Whether the caller's roles let it see personal data (no caller: a trusted in-process one)."""
    return caller is None or caller.has_any(MAY_SEE_PERSONAL_DATA)


def is_personal(field: FieldDescriptor) -> bool:
    """Whether the contract marks the field as personal data."""
    return bool(field.GetOptions().Extensions[personal_pb2.personal])


def mask(message: Message, own: str = "") -> None:
    """Replace every personal value (at any depth, strings and bytes, single or repeated) that
    is set with MASK; one equal to `own` (the caller's own identifier) is theirs to see."""
    for field in _interesting(message.DESCRIPTOR):
        if is_personal(field):
            _mask_field(message, field, own)
        elif field.is_repeated:
            for entry in getattr(message, field.name):
                mask(entry, own)
        elif message.HasField(field.name):
            mask(getattr(message, field.name), own)


def _mask_field(message: Message, field: FieldDescriptor, own: str) -> None:
    hidden: str | bytes = MASK if field.type == FieldDescriptor.TYPE_STRING else MASK.encode()
    if field.is_repeated:
        values = getattr(message, field.name)
        kept = [v if own and v == own else hidden for v in values]
        del values[:]
        values.extend(kept)
    elif (value := getattr(message, field.name)) and not (own and value == own):
        setattr(message, field.name, hidden)


@cache
def _interesting(descriptor: Descriptor) -> tuple[FieldDescriptor, ...]:
    """The fields that are personal, or messages that may hold personal fields."""
    return tuple(
        f
        for f in descriptor.fields
        if (is_personal(f) and f.type in MASKABLE)
        or (
            f.message_type is not None
            and not f.message_type.GetOptions().map_entry
            and _holds_personal(f.message_type, frozenset())
        )
    )


def _holds_personal(descriptor: Descriptor, seen: frozenset[str]) -> bool:
    if descriptor.full_name in seen:
        return False
    seen = seen | {descriptor.full_name}
    return any(
        is_personal(f) or (f.message_type is not None and _holds_personal(f.message_type, seen))
        for f in descriptor.fields
    )
