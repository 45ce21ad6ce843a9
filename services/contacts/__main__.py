"""Run the contacts service: python -m contacts (or touchstone serve contacts)."""

from contacts.service import SPEC
from touchstone.common.settings import settings_from_env
from touchstone.common.worker import run_service

if __name__ == "__main__":
    run_service(SPEC, settings_from_env())
