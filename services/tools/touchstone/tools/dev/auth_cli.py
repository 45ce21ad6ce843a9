"""`touchstone keys` and `touchstone token`: a development key set, and tokens signed by it.

Production takes its tokens from an identity provider and gives Touchstone only that provider's
public JWKS (TOUCHSTONE_AUTH_KEYS); these commands serve development, compose and tests.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.auth import ALL_SITES, ROLES
from touchstone.tools.ops.dev_keys import DevKeys, mint


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The keys and token commands, on the top-level parser's subparsers."""
    keys = sub.add_parser("keys", help="make a development key set (signing key + public JWKS)")
    keys.add_argument("folder", type=Path, help="where to keep it (private to its owner)")
    keys.add_argument("--replace", action="store_true", help="make a new one even if one exists")
    keys.set_defaults(func=cmd_keys)
    token = sub.add_parser("token", help="print a token signed with a development key")
    token.add_argument("--role", choices=ROLES, required=True, help="what it may do")
    token.add_argument("--site", action="append", default=[], help="a site it may see (repeat)")
    token.add_argument("--subject", default="", help="who it names (default: dev-<role>)")
    token.add_argument("--hours", type=float, default=12.0, help="how long it is valid")
    token.set_defaults(func=cmd_token)


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    """Make the key set unless one is there; print where its JWKS is."""
    keys = DevKeys(args.folder)
    if args.replace or not keys.signing_key.exists():
        keys.create()
        print(f"created {keys.jwks} (and its signing key beside it)")
    else:
        print(f"kept {keys.jwks}")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    """Print a token for the role and sites, signed with TOUCHSTONE_AUTH_SIGNING_KEY (or, beside
    `make run`, with the embedded stack's own development key)."""
    signing_key = settings.auth_signing_key
    if signing_key is None and settings.embedded:
        signing_key = DevKeys(settings.state_dir / "keys").signing_key
    if signing_key is None or not signing_key.exists():
        print(
            "set TOUCHSTONE_AUTH_SIGNING_KEY to a development signing key (touchstone keys), "
            "or start the local stack (make run), which makes its own"
        )
        return 2
    if args.hours > settings.auth_max_token_hours:
        print(
            f"--hours {args.hours:g}: services refuse tokens valid longer than "
            f"TOUCHSTONE_AUTH_MAX_TOKEN_HOURS ({settings.auth_max_token_hours:g})"
        )
        return 2
    print(
        mint(
            signing_key,
            subject=args.subject or f"dev-{args.role}",
            roles=[args.role],
            sites=args.site or [ALL_SITES],
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            ttl_s=args.hours * 3600,
        )
    )
    return 0
