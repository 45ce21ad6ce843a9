"""Authentication and authorisation on the real servers, one stack shared by the package's
modules (conftest.py):

- test_tokens_and_roles: tokens checked on every call, the roles every RPC lets in, personal
  data by role, and the audit trail;
- test_visibility_by_site: callers limited to some sites see and act on only theirs.

The helpers other tests import from here live in tests/e2e/authentication_support.py."""

from tests.e2e.authentication_support import code_and_details, signed

__all__ = ["code_and_details", "signed"]
