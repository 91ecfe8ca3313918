"""Gaps per boot of a device: a restart, a hole, and what redelivery must not make."""

from __future__ import annotations

from contract import SampleBatch
from record.gaps import GapTracker

DEVICE = ("site-a", "room-1", "board-1")
T0 = 1_700_000_000.0


def board(boot: str, seq: int, n: int = 10, t_host: float | None = None) -> SampleBatch:
    t = T0 + seq * 0.01 if t_host is None else t_host
    return SampleBatch(device="board-1", kind="board", boot=boot, seq=seq, t_dev=seq * 0.01,
                       t_host=t, period=0.01, columns=("fl", "fr", "bl", "br"),
                       rows=[[1.0, 1.0, 1.0, 1.0]] * n)


def test_a_new_boot_is_a_restart_and_a_skipped_seq_is_a_hole() -> None:
    gaps = GapTracker()
    assert gaps.check(DEVICE, board("b1", 0)) is None
    hole = gaps.check(DEVICE, board("b1", 20))
    assert hole is not None
    assert hole[2] == "10 samples missing"
    restart = gaps.check(DEVICE, board("b2", 0, t_host=T0 + 5))
    assert restart is not None
    assert restart[2] == "device restarted"
    assert restart[0] < restart[1] == T0 + 5


def test_a_redelivered_batch_of_an_earlier_boot_makes_no_gap() -> None:
    """The broker resends what the recorder had not acknowledged when it died: those
    batches of the old boot arrive after the new boot's first batch."""
    gaps = GapTracker()
    for seq in (0, 10, 20):
        gaps.check(DEVICE, board("b1", seq))
    assert gaps.check(DEVICE, board("b2", 0, t_host=T0 + 5)) is not None

    assert gaps.check(DEVICE, board("b1", 10)) is None, "a duplicate"
    assert gaps.check(DEVICE, board("b1", 30)) is None, "the old boot's next batch, late"
    assert gaps.check(DEVICE, board("b2", 10, t_host=T0 + 5.1)) is None, "no restart again"
    assert gaps.check(DEVICE, board("b3", 0, t_host=T0 + 9)) is not None


def test_two_rooms_with_the_same_device_name_have_their_own_sequence() -> None:
    gaps = GapTracker()
    other = ("site-a", "room-2", "board-1")
    assert gaps.check(DEVICE, board("b1", 0)) is None
    assert gaps.check(other, board("x9", 500)) is None
    assert gaps.check(DEVICE, board("b1", 10)) is None
