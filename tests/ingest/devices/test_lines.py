from __future__ import annotations

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from ingest.devices.base import DeviceUnavailable
from ingest.devices.lines import LineReader
from tests.ingest.devices.fakes import ChunkPort


def test_lines_end_at_cr_lf_or_crlf_and_empty_lines_vanish() -> None:
    reader = LineReader(ChunkPort([b"a,1\r\nb,2\rc,3\n\n\r\nd,4\n"]))
    assert reader.read_lines(0.0) == [b"a,1", b"b,2", b"c,3", b"d,4"]


def test_a_line_split_across_reads_is_joined() -> None:
    port = ChunkPort([b"12,3", b".5,7", b"\r", b"\n8,9\n"])
    reader = LineReader(port)
    lines = []
    for _ in range(5):
        lines += reader.read_lines(0.0)
    assert lines == [b"12,3.5,7", b"8,9"]
    assert reader.rejects == 0


def test_a_partial_line_waits_for_its_end() -> None:
    reader = LineReader(ChunkPort([b"1,2,3"]))
    assert reader.read_lines(0.0) == []
    assert reader.pending == b"1,2,3"
    assert reader.feed(b",4\n") == [b"1,2,3,4"]


def test_an_overlong_line_is_cut_out_whole_and_counted_once() -> None:
    junk = b"x" * 500
    reader = LineReader(ChunkPort([b"1,2\n", junk[:200], junk[200:], b"tail\n3,4\n"]), max_line=64)
    lines = []
    for _ in range(5):
        lines += reader.read_lines(0.0)
    assert lines == [b"1,2", b"3,4"]
    assert reader.rejects == 1


def test_an_overlong_complete_line_is_rejected() -> None:
    reader = LineReader(ChunkPort([b"1,2\n" + b"9" * 100 + b"\n3,4\n"]), max_line=64)
    assert reader.read_lines(0.0) == [b"1,2", b"3,4"]
    assert reader.rejects == 1


def test_garbage_bytes_pass_through_for_the_parser_to_judge() -> None:
    reader = LineReader(ChunkPort([b"\xff\xfe\x00junk\n1,2\n"]))
    assert reader.read_lines(0.0) == [b"\xff\xfe\x00junk", b"1,2"]


def test_skip_first_drops_the_fragment_a_port_opened_mid_line_starts_with() -> None:
    reader = LineReader(ChunkPort([b"5.5,1.25\n12.5,1.5\n"]), skip_first=True)
    assert reader.read_lines(0.0) == [b"12.5,1.5"]


def test_skip_first_keeps_everything_when_the_stream_starts_at_a_line_end() -> None:
    reader = LineReader(ChunkPort([b"\n12.5,1.5\n"]), skip_first=True)
    assert reader.read_lines(0.0) == [b"12.5,1.5"]


def test_port_errors_become_device_unavailable() -> None:
    reader = LineReader(ChunkPort([], then_fail=True), name="board-1")
    with pytest.raises(DeviceUnavailable, match="board-1"):
        reader.read_lines(0.0)


def test_a_closed_pyserial_port_is_unavailable() -> None:
    port = serial.serial_for_url("loop://", timeout=0)
    reader = LineReader(port)
    port.close()
    with pytest.raises(DeviceUnavailable):
        reader.read_lines(0.0)


def test_reads_a_real_pyserial_loop_port() -> None:
    port = serial.serial_for_url("loop://", timeout=0)
    reader = LineReader(port)
    port.write(b"1,2\r\n3,")
    assert reader.read_lines(0.5) == [b"1,2"]
    port.write(b"4\r\n")
    assert reader.read_lines(0.5) == [b"3,4"]
    assert reader.read_lines(0.0) == []
    port.close()


@given(
    lines=st.lists(
        st.binary(min_size=1, max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b),
        max_size=20,
    ),
    ends=st.data(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_any_chunking_and_line_ends_give_the_same_lines(
    lines: list[bytes], ends: st.DataObject, cuts: list[int]
) -> None:
    stream = b"".join(line + ends.draw(st.sampled_from([b"\n", b"\r", b"\r\n"])) for line in lines)
    points = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    reader = LineReader(ChunkPort([]), max_line=64)
    got: list[bytes] = []
    for chunk in chunks:
        got += reader.feed(chunk)
    assert got == lines
    assert reader.rejects == 0
