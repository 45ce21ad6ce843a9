"""Site scoping: a caller limited to some sites never sees another site's data.

It works on the messages themselves, so every RPC is covered the same way:
- a request with a `site_id` must name one of the caller's sites, and every site a request
  carries (an ingest batch's touchpoints) must be one of them;
- a reply whose own `site_id` (or a nested one's, outside lists) is another site's is answered
  NOT_FOUND, as a thing that does not exist is (not_found_text);
- list entries of other sites are dropped from replies, and stream events of other sites are
  not sent.
Commands that act on something by id (a case step, a customer) check its site before acting
(notify's api, contacts' profile_api). Dead letters belong to no site: only callers who see every
site may read or redrive them (contacts' dlq_api).
"""

from __future__ import annotations

from google.protobuf.message import Message

from touchstone.platform.security.auth import ALL_SITES, Principal

SITE = "site_id"


def limited(caller: Principal | None) -> bool:
    """Whether the caller sees only some sites."""
    return caller is not None and ALL_SITES not in caller.sites


def sites_counted(caller: Principal | None) -> list[str] | None:
    """The sites a caller's figures count: theirs, or None for every site."""
    return sorted(caller.sites) if caller is not None and limited(caller) else None


def request_refusal(request: Message, caller: Principal) -> str:
    """Why the request asks for, or carries, a site the caller may not see ('' when it may):
    a top-level site_id must name one of the caller's sites, and every site_id inside (the
    touchpoints of an ingest batch, say) must be one of them."""
    if not limited(caller):
        return ""
    sites = ", ".join(sorted(caller.sites)) or "none"
    if SITE in request.DESCRIPTOR.fields_by_name and not getattr(request, SITE):
        return f"name a site (site_id): this caller may see only {sites}"
    for site in sorted(sites_in(request)):
        if not caller.may_see_site(site):
            return f"site {site} is not one of this caller's sites ({sites})"
    return ""


def sites_in(message: Message) -> set[str]:
    """Every site_id set in the message, at any depth, lists included."""
    found = {getattr(message, SITE)} if SITE in message.DESCRIPTOR.fields_by_name else set()
    for field in message.DESCRIPTOR.fields:
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            for entry in getattr(message, field.name):
                found |= sites_in(entry)
        elif message.HasField(field.name):
            found |= sites_in(getattr(message, field.name))
    return found - {""}


def not_found_text(request: Message) -> str:
    """What a service answers for a thing that does not exist, by the request's id: '<thing>
    <id> not found' ('case c-1 not found'). The guard answers the same for a thing of a site the
    caller may not see, so one cannot be told from the other."""
    for field in request.DESCRIPTOR.fields:
        name = field.name
        is_id = name.endswith("_id") and name != SITE and field.type == field.TYPE_STRING
        if is_id and (value := getattr(request, name)):
            return f"{name.removesuffix('_id').replace('_', ' ')} {value} not found"
    return "not found"


def foreign_site(message: Message, caller: Principal) -> str:
    """Another site the message (or a nested message outside a list) belongs to, or ''."""
    if not limited(caller):
        return ""
    fields = message.DESCRIPTOR.fields_by_name
    if SITE in fields and (site := getattr(message, SITE)) and not caller.may_see_site(site):
        return str(site)
    for field in message.DESCRIPTOR.fields:
        if field.message_type is None or field.is_repeated or not message.HasField(field.name):
            continue
        if found := foreign_site(getattr(message, field.name), caller):
            return found
    return ""


def prune(message: Message, caller: Principal) -> None:
    """Drop list entries of other sites, at any depth."""
    if not limited(caller):
        return
    for field in message.DESCRIPTOR.fields:
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if not field.is_repeated:
            if message.HasField(field.name):
                prune(getattr(message, field.name), caller)
            continue
        entries = getattr(message, field.name)
        kept = [_copy(e) for e in entries if not foreign_site(e, caller)]
        if len(kept) != len(entries):
            del entries[:]
            entries.extend(kept)
        for entry in entries:
            prune(entry, caller)


def _copy(message: Message) -> Message:
    copy = type(message)()
    copy.CopyFrom(message)
    return copy
