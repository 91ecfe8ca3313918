"""0–100 stability score relative to the child's own reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InvalidParameterError
from analysis.score import stability_score

_sway = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
_ref = st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)


def test_documented_anchor_points() -> None:
    assert stability_score(0.0, 3.0) == 100.0
    assert stability_score(3.0, 3.0) == 50.0
    assert stability_score(1.5, 3.0) == pytest.approx(80.0)
    assert stability_score(6.0, 3.0) == pytest.approx(20.0)
    assert stability_score(1e300, 1e-3) == 0.0


@settings(max_examples=200, database=None)
@given(_sway, _sway, _ref)
def test_less_sway_never_scores_lower(a: float, b: float, ref: float) -> None:
    low, high = sorted((a, b))
    assert stability_score(low, ref) >= stability_score(high, ref)


@settings(max_examples=200, database=None)
@given(_sway, _ref)
def test_score_is_within_0_and_100(sway: float, ref: float) -> None:
    assert 0.0 <= stability_score(sway, ref) <= 100.0


@settings(max_examples=100, database=None)
@given(_sway, _ref, st.floats(1e-3, 1e3))
def test_unit_of_the_sway_measure_does_not_matter(sway: float, ref: float, k: float) -> None:
    assert stability_score(k * sway, k * ref) == pytest.approx(stability_score(sway, ref), abs=1e-9)


def test_steepness_sharpens_the_curve_around_the_reference() -> None:
    assert stability_score(2.0, 1.0, steepness=4.0) < stability_score(2.0, 1.0)
    assert stability_score(0.5, 1.0, steepness=4.0) > stability_score(0.5, 1.0)
    assert stability_score(1.0, 1.0, steepness=4.0) == 50.0


@pytest.mark.parametrize(
    ("sway", "reference", "match"),
    [
        (-1.0, 1.0, "sway must be a finite number >= 0"),
        (float("nan"), 1.0, "sway"),
        (1.0, 0.0, "reference must be a finite number > 0"),
        (1.0, float("inf"), "reference"),
        ("a lot", 1.0, "sway must be a number"),
    ],
)
def test_bad_inputs_are_rejected(sway: object, reference: float, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        stability_score(sway, reference)  # type: ignore[arg-type]
