"""What a bench phase asked of the broker and Postgres, per touchpoint, and the least its records
could cost: given readings → then the figures."""

from __future__ import annotations

import pytest

from touchstone.tools.dev.raw_hop import RawHop
from touchstone.tools.dev.traffic import Traffic, kafka_floor_us


def test_traffic_between_two_readings_is_their_difference_per_touchpoint() -> None:
    before, after = Traffic(100, 250, 40), Traffic(5_540, 7_390, 11_540)
    assert after.since(before) == Traffic(5_440, 7_140, 11_500)
    assert after.since(before).per(1_000) == {
        "records_produced": 5.44,
        "records_consumed": 7.14,
        "row_writes": 11.5,
    }


def test_a_phase_with_no_touchpoints_is_per_one_not_a_division_by_zero() -> None:
    per = Traffic(3, 6, 9).per(0)
    assert per == {"records_produced": 3, "records_consumed": 6, "row_writes": 9}


def test_a_raw_hop_message_is_one_consume_and_one_produce_so_a_record_costs_half() -> None:
    hop = RawHop(per_s=90_000.0, client_us=10.8, broker_us=2.8)
    assert hop.record_us == pytest.approx(6.8)
    per = Traffic(5_440, 7_130, 0).per(1_000)
    assert kafka_floor_us(per, hop.record_us) == pytest.approx((5.44 + 7.13) * 6.8, abs=0.05)
