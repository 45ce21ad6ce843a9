"""Run the notify service: python -m touchstone.notify (or touchstone serve notify)."""

from touchstone.notify.service import SPEC
from touchstone.platform.runtime.settings import settings_from_env
from touchstone.platform.runtime.worker import run_service

if __name__ == "__main__":
    run_service(SPEC, settings_from_env())
