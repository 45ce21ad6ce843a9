"""Run the journey service: python -m touchstone.journey (or touchstone serve journey)."""

from touchstone.journey.service import SPEC
from touchstone.platform.runtime.settings import settings_from_env
from touchstone.platform.runtime.worker import run_service

if __name__ == "__main__":
    run_service(SPEC, settings_from_env())
