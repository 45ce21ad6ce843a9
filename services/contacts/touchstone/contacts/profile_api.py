"""The profile part of contacts' gRPC service: register, update, consent, get and find."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable, Sequence
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc

from touchstone.contacts.codec import IDENTITY_KIND_NAMES, anonymised
from touchstone.contacts.domain import CONTROL_CHARACTERS, MAX_TEXT_LENGTH, normalise_identity
from touchstone.contacts.ports import (
    ContactsStore,
    CustomerRow,
    ErasureStore,
    EventFor,
    MergeStore,
    ProfileChange,
    ProfileStore,
    UnknownCustomer,
)
from touchstone.contacts.profile_events import profile_event, registered_event, updated_event
from touchstone.contacts.profiles import (
    REGISTRATION_REASON,
    UPDATE_REASON,
    CannotMerge,
    Identity,
    IdentityTaken,
    NothingToIdentify,
)
from touchstone.contacts.v1 import contacts_service_pb2 as pb
from touchstone.contacts.v1 import profile_pb2 as profile_pb
from touchstone.contacts.v1.events_pb2 import TouchpointRecorded
from touchstone.contacts.v1.touchpoint_pb2 import ExternalIdentity, Touchpoint
from touchstone.platform.messaging.topics import Outgoing
from touchstone.platform.runtime.prototime import to_timestamp
from touchstone.platform.security.auth_interceptor import current_caller
from touchstone.platform.security.site_scope import limited
from touchstone.platform.serving.rpc import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    require,
    rpc_method,
)

T = TypeVar("T")
KIND_BY_NAME = {name: kind for kind, name in IDENTITY_KIND_NAMES.items()}
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
STATUSES = {
    "provisional": profile_pb.CUSTOMER_STATUS_PROVISIONAL,
    "registered": profile_pb.CUSTOMER_STATUS_REGISTERED,
    "erased": profile_pb.CUSTOMER_STATUS_ERASED,
}


class ProfileTables(ContactsStore, ProfileStore, MergeStore, ErasureStore, Protocol):
    """The tables profile commands read and write."""


def identities_of(given: Iterable[ExternalIdentity], field: str) -> tuple[Identity, ...]:
    """Canonical (kind, value) identities, or InvalidArgument naming the bad one."""
    found: list[Identity] = []
    for n, identity in enumerate(given):
        kind = IDENTITY_KIND_NAMES.get(identity.kind)
        value = normalise_identity(kind, identity.value) if kind else ""
        if not kind or not value or CONTROL_CHARACTERS.search(value):
            raise InvalidArgument((f"{field}[{n}]", "needs a known kind and a value"))
        found.append((kind, value))
    return tuple(dict.fromkeys(found))


def checked_consent(consent: profile_pb.Consent) -> bytes:
    """The consent as stored, or InvalidArgument for unknown channels or bad quiet hours."""
    for n, channel in enumerate(consent.channels):
        if channel.channel == profile_pb.CONSENT_CHANNEL_UNSPECIFIED:
            raise InvalidArgument((f"consent.channels[{n}].channel", "is required"))
    if consent.HasField("quiet_hours"):
        quiet = consent.quiet_hours
        for name in ("start", "end"):
            if not CLOCK_TIME.match(getattr(quiet, name)):
                raise InvalidArgument((f"consent.quiet_hours.{name}", "must be HH:MM, 24-hour"))
        try:
            ZoneInfo(quiet.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InvalidArgument(("consent.quiet_hours.time_zone", "unknown time zone")) from error
    return consent.SerializeToString(deterministic=True)


def scrub_touchpoint(payload: bytes) -> bytes:
    """A stored Touchpoint without personal data."""
    return anonymised(Touchpoint.FromString(payload)).SerializeToString(deterministic=True)


def scrub_recorded(value: bytes) -> bytes:
    """A pending TouchpointRecorded without personal data."""
    event = TouchpointRecorded.FromString(value)
    event.touchpoint.CopyFrom(anonymised(event.touchpoint))
    return event.SerializeToString()


def checked_reason(reason: str) -> str:
    """A merge's reason as kept in the ledger, or InvalidArgument."""
    if len(reason) > MAX_TEXT_LENGTH or CONTROL_CHARACTERS.search(reason):
        raise InvalidArgument(("reason", f"at most {MAX_TEXT_LENGTH} characters, no control ones"))
    return reason


def customer_message(row: CustomerRow) -> pb.Customer:
    """A customer as a contract message."""
    message = pb.Customer(
        customer_id=row.customer_id,
        identities=[ExternalIdentity(kind=KIND_BY_NAME[k], value=v) for k, v in row.identities],
        touchpoint_count=row.touchpoint_count,
        status=STATUSES.get(row.status, profile_pb.CUSTOMER_STATUS_UNSPECIFIED),
        merged_customer_ids=row.merged_ids,
    )
    if row.first_seen and row.last_seen:
        message.first_seen.CopyFrom(to_timestamp(row.first_seen))
        message.last_seen.CopyFrom(to_timestamp(row.last_seen))
    if row.profile:
        message.profile.ParseFromString(row.profile)
    if row.consent:
        message.consent.ParseFromString(row.consent)
    return message


def not_found(customer_id: str) -> str:
    """The answer for a customer that does not exist, or that the caller may not see."""
    return f"customer {customer_id} not found"


def unregistered(customer_id: str) -> str:
    """The answer for a change to a customer nobody registered, or the caller may not see."""
    return f"no registered customer {customer_id}: register them first"


class ProfileMethods:
    """gRPC methods over profiles; mixed into the contacts servicer."""

    store: ProfileTables

    async def customer(self, customer_id: str) -> pb.Customer:
        """The customer as the API shows them, or NotFound."""
        row = await self.store.get_customer(customer_id)
        if row is None:
            raise NotFound(not_found(customer_id))
        return customer_message(row)

    @rpc_method
    async def RegisterCustomer(
        self, request: pb.RegisterCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        identities = identities_of(request.identities, "identities")
        change = ProfileChange(
            identities,
            request.profile.SerializeToString(deterministic=True),
            checked_consent(request.consent),
            reason=REGISTRATION_REASON,
        )
        await self._not_someone_elses(request.customer_id)
        await self._identities_of_others_unseen(request.customer_id, identities)

        def registered(customer_id: str, key: bytes) -> Outgoing:
            return registered_event(customer_id, key, request.identities, request.consent)

        customer_id = await self._command(
            self.store.register(request.customer_id, change, registered)
        )
        return await self.customer(customer_id)

    @rpc_method
    async def UpdateCustomer(
        self, request: pb.UpdateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        customer_id = require("customer_id", request.customer_id)
        await self._visible_to_caller(customer_id, unregistered(customer_id))
        identities = identities_of(request.add_identities, "add_identities")
        await self._identities_of_others_unseen(customer_id, identities)
        change = ProfileChange(
            identities, request.profile.SerializeToString(deterministic=True), reason=UPDATE_REASON
        )

        def event(c: str, key: bytes) -> Outgoing:
            return updated_event(c, key, request.add_identities)

        await self._changed(customer_id, change, event)
        return await self.customer(customer_id)

    @rpc_method
    async def UpdateConsent(
        self, request: pb.UpdateConsentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        customer_id = require("customer_id", request.customer_id)
        await self._visible_to_caller(customer_id, unregistered(customer_id))
        change = ProfileChange(consent=checked_consent(request.consent))

        def event(c: str, _key: bytes) -> Outgoing:
            changed = profile_pb.ConsentChanged(customer_id=c, consent=request.consent)
            return profile_event(c, consent_changed=changed)

        await self._changed(customer_id, change, event)
        return await self.customer(customer_id)

    @rpc_method
    async def GetCustomer(
        self, request: pb.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        customer_id = require("customer_id", request.customer_id)
        await self._visible_to_caller(customer_id, not_found(customer_id))
        return await self.customer(customer_id)

    @rpc_method
    async def FindCustomer(
        self, request: pb.FindCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        (identity,) = identities_of([request.identity], "identity")
        owners = await self.store.identity_owners([identity])
        unknown = f"no customer is known by that {identity[0]}"
        if identity not in owners:
            raise NotFound(unknown)
        await self._visible_to_caller(owners[identity], unknown)
        return await self.customer(owners[identity])

    async def _visible_to_caller(self, customer_id: str, missing: str) -> None:
        """NotFound(missing), the RPC's own answer for no such customer, unless the caller sees
        every site or has the customer at one of theirs (a customer has no site of their own:
        they are a site's once they came there). So a caller limited to some sites can neither
        read nor change a customer of another site, nor learn that one exists."""
        if not await self._seen_by_caller(customer_id):
            raise NotFound(missing)

    async def _not_someone_elses(self, customer_id: str) -> None:
        """AlreadyExists if the caller names, to register, a customer they may not see (it
        would overwrite another site's customer's profile and consent)."""
        if not customer_id or await self._seen_by_caller(customer_id):
            return
        if await self.store.get_customer(customer_id) is not None:
            raise AlreadyExists(f"customer {customer_id} is already registered")

    async def _identities_of_others_unseen(
        self, customer_id: str, identities: Sequence[tuple[str, str]]
    ) -> None:
        """AlreadyExists if an identity belongs to a customer the caller may not see: it would
        link that customer (and their history at other sites) to this one."""
        owners = await self.store.identity_owners(identities) if identities else {}
        for (kind, _value), owner in sorted(owners.items()):
            if owner != customer_id and not await self._seen_by_caller(owner):
                raise AlreadyExists(f"{kind} is already registered to another customer")

    async def _seen_by_caller(self, customer_id: str) -> bool:
        caller = current_caller()
        if caller is None or not limited(caller):
            return True
        return await self.store.seen_at(customer_id, caller.sites)

    @rpc_method
    async def MergeCustomers(
        self, request: pb.MergeCustomersRequest, context: grpc.aio.ServicerContext
    ) -> pb.Customer:
        survivor_id = require("survivor_id", request.survivor_id)
        absorbed_id = require("absorbed_id", request.absorbed_id)
        reason = checked_reason(request.reason)
        for customer_id in (survivor_id, absorbed_id):
            await self._visible_to_caller(customer_id, not_found(customer_id))
        merge = await self._command(self.store.merge(survivor_id, absorbed_id, reason))
        return await self.customer(merge.survivor_id)

    @rpc_method
    async def UnmergeCustomers(
        self, request: pb.UnmergeCustomersRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnmergeCustomersResponse:
        customer_id = require("customer_id", request.customer_id)
        await self._visible_to_caller(customer_id, not_found(customer_id))
        merge = await self.store.unmerge(customer_id, checked_reason(request.reason))
        if merge is None:
            await self.customer(customer_id)  # NotFound when there is no such customer at all
            raise FailedPrecondition(f"customer {customer_id} is not merged into another")
        return pb.UnmergeCustomersResponse(
            survivor=await self.customer(merge.survivor_id),
            restored=await self.customer(merge.absorbed_id),
        )

    @rpc_method
    async def EraseCustomer(
        self, request: pb.EraseCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseCustomerResponse:
        customer_id = require("customer_id", request.customer_id)
        await self._visible_to_caller(customer_id, not_found(customer_id))

        def event(member: str) -> Outgoing:
            return profile_event(member, erased=profile_pb.CustomerErased(customer_id=member))

        erased = await self.store.erase(customer_id, scrub_touchpoint, scrub_recorded, event)
        if erased is None:
            raise NotFound(not_found(customer_id))
        return pb.EraseCustomerResponse(
            customer_id=customer_id,
            identities_removed=erased.identities,
            touchpoints_scrubbed=erased.touchpoints,
            dead_letters_scrubbed=erased.dead_letters,
        )

    async def _changed(self, customer_id: str, change: ProfileChange, event: EventFor) -> None:
        if not await self._command(self.store.update(customer_id, change, event)):
            raise NotFound(unregistered(customer_id))

    async def _command(self, work: Awaitable[T]) -> T:
        """Await a profile command, mapping refusals to gRPC errors. An identity taken by a
        customer the caller may not see is not told whose it is."""
        try:
            return await work
        except IdentityTaken as error:
            if await self._seen_by_caller(error.owner):
                raise AlreadyExists(str(error)) from error
            raise AlreadyExists(
                f"{error.kind} is already registered to another customer"
            ) from error
        except CannotMerge as error:
            raise FailedPrecondition(str(error)) from error
        except UnknownCustomer as error:
            raise NotFound(str(error)) from error
        except NothingToIdentify as error:
            raise InvalidArgument(("identities", str(error))) from error
