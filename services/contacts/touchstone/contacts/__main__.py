"""Run the contacts service: python -m touchstone.contacts (or touchstone serve contacts)."""

from touchstone.contacts.service import SPEC
from touchstone.platform.runtime.settings import settings_from_env
from touchstone.platform.runtime.worker import run_service

if __name__ == "__main__":
    run_service(SPEC, settings_from_env())
