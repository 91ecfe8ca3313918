from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract import SampleBatch
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS, DeviceUnavailable
from ingest.devices.hx711 import Hx711Config, hx711_source
from ingest.devices.imu_lines import ImuLineConfig, imu_source
from ingest.devices.serial_source import SerialSource
from tests.ingest.devices.fakes import PtyDevice, TcpDevice, read_until, read_until_unavailable


def loop_board(**kwargs: object) -> SerialSource:
    options: dict[str, object] = {"device": "board-1", "url": "loop://", "skip_first_line": False}
    options.update(kwargs)
    source = hx711_source(Hx711Config(**options))  # type: ignore[arg-type]
    source.setup()
    return source


def send(source: SerialSource, data: bytes) -> None:
    assert source.port is not None
    source.port.write(data)


def lines(*stamps: int, load: float = 4.5) -> bytes:
    return b"".join(f"{t},{load},{load},{load},{load}\r\n".encode() for t in stamps)


@pytest.fixture
def board() -> Iterator[SerialSource]:
    source = loop_board()
    yield source
    source.cleanup()


# ----------------------------------------------------------------------------- loop://


def test_reads_board_lines_with_device_time_in_seconds(board: SerialSource) -> None:
    send(board, lines(1000, 1010, 1020))
    readings = read_until(board, 3)
    assert [r.t_dev for r in readings] == pytest.approx([1.0, 1.01, 1.02])
    assert readings[0].values == (4.5, 4.5, 4.5, 4.5)
    assert (board.kind, board.columns, board.rejects) == ("board", BOARD_COLUMNS, 0)


def test_bad_lines_are_counted_and_skipped_and_good_ones_kept(board: SerialSource) -> None:
    send(board, lines(1000))
    send(board, b"1010,4.5,4.5\r\n")  # wrong field count
    send(board, b"\xff\xfe\x00\x01\r\n")  # garbage bytes
    send(board, b"1020,4.5,abc,4.5,4.5\r\n")  # not a number
    send(board, b"1030,4.5,4.5,4.5,999\r\n")  # out of range
    send(board, b"9" * 400 + b"\r\n")  # overlong
    send(board, lines(1040))
    readings = read_until(board, 2)
    assert [r.t_dev for r in readings] == pytest.approx([1.0, 1.04])
    assert board.rejects == 5


def test_a_line_split_across_reads_is_one_reading(board: SerialSource) -> None:
    send(board, b"1000,4.5,4.")
    assert board.read(0.05) == []
    send(board, b"5,4.5,4.5\n")
    assert [r.values for r in read_until(board, 1)] == [(4.5, 4.5, 4.5, 4.5)]


def test_without_timestamps_device_time_counts_periods_and_bad_lines_keep_their_slot() -> None:
    source = loop_board(period=0.02)
    send(source, b"1,1,1,1\n2,2,2,2\nbad\n4,4,4,4\n")
    readings = read_until(source, 3)
    assert [r.t_dev for r in readings] == pytest.approx([0.0, 0.02, 0.06])
    assert source.rejects == 1
    source.cleanup()


def test_first_fragment_after_opening_is_dropped_by_default() -> None:
    source = loop_board(skip_first_line=True)
    send(source, b"5,4.5,4.5,4.5\r\n" + lines(1010))
    assert [r.t_dev for r in read_until(source, 1)] == pytest.approx([1.01])
    assert source.rejects == 0
    source.cleanup()


def test_imu_source_over_loop() -> None:
    source = imu_source(ImuLineConfig(device="imu-trunk", url="loop://", skip_first_line=False))
    source.setup()
    send(source, b"20,0,0,1,0.5,0,0\n30,0,0,1,0.5,0,0\n")
    readings = read_until(source, 2)
    assert (source.kind, source.columns) == ("imu", IMU_COLUMNS)
    assert [r.t_dev for r in readings] == pytest.approx([0.02, 0.03])
    source.cleanup()


# ----------------------------------------------------------------------------- boots


def test_timestamp_going_back_is_a_device_reset_with_a_new_boot(board: SerialSource) -> None:
    send(board, lines(50000, 50010, 50020))
    first = read_until(board, 3)
    old_boot = board.boot
    send(board, lines(5, 15, 25))
    after = read_until(board, 3)
    assert len(first) == 3
    assert [r.t_dev for r in after] == pytest.approx([0.005, 0.015, 0.025])
    assert board.boot != old_boot
    assert board.rejects == 0


def test_readings_of_two_boots_never_come_in_one_read(board: SerialSource) -> None:
    send(board, lines(50000, 50010) + lines(5, 15))
    batches: list[tuple[str, list[float]]] = []
    for _ in range(50):
        readings = board.read(0.05)
        if readings:
            batches.append((board.boot, [r.t_dev for r in readings]))
        if sum(len(times) for _, times in batches) >= 4:
            break
    assert len(batches) == 2
    assert batches[0][1] == pytest.approx([50.0, 50.01])
    assert batches[-1][1] == pytest.approx([0.005, 0.015])
    assert batches[0][0] != batches[-1][0]


def test_a_banner_line_starts_a_new_boot() -> None:
    source = loop_board(banner=r"^# HX711 board", period=0.01)
    send(source, b"1,1,1,1\n2,2,2,2\n")
    read_until(source, 2)
    old_boot = source.boot
    send(source, b"# HX711 board v2 ready\n3,3,3,3\n")
    after = read_until(source, 1)
    assert source.boot != old_boot
    assert after[0].t_dev == 0.0  # untimed device: time restarts with the boot
    assert source.rejects == 0
    source.cleanup()


def test_a_banner_before_any_data_does_not_split_the_boot() -> None:
    source = loop_board(banner="ready")
    boot = source.boot
    send(source, b"ready\n" + lines(5, 15))
    assert len(read_until(source, 2)) == 2
    assert source.boot == boot
    source.cleanup()


def test_one_corrupted_timestamp_is_rejected_not_taken_for_a_reset(board: SerialSource) -> None:
    send(board, lines(123440, 123450) + lines(12460) + lines(123470, 123480))
    readings = read_until(board, 4)
    boot = board.boot
    assert [r.t_dev for r in readings] == pytest.approx([123.44, 123.45, 123.47, 123.48])
    assert board.rejects == 1
    assert board.boot == boot


def test_a_corrupted_jump_ahead_is_rejected_too(board: SerialSource) -> None:
    send(board, lines(1000, 1010) + lines(91020) + lines(1030))
    readings = read_until(board, 3)
    assert [r.t_dev for r in readings] == pytest.approx([1.0, 1.01, 1.03])
    assert board.rejects == 1


def test_a_real_jump_ahead_confirmed_by_the_next_line_is_kept(board: SerialSource) -> None:
    send(board, lines(1000, 1010) + lines(61000, 61010))
    readings = read_until(board, 4)
    assert [r.t_dev for r in readings] == pytest.approx([1.0, 1.01, 61.0, 61.01])
    assert board.rejects == 0


def test_a_lone_reset_line_is_believed_when_the_device_goes_quiet(board: SerialSource) -> None:
    send(board, lines(50000, 50010) + lines(3))
    read_until(board, 2)
    old_boot = board.boot
    after = read_until(board, 1)
    assert [r.t_dev for r in after] == pytest.approx([0.003])
    assert board.boot != old_boot


def test_counter_wrap_is_unwrapped_not_a_reset() -> None:
    source = loop_board(counter_bits=16)  # wraps every 65.536 s
    boot = source.boot
    send(source, lines(65516, 65526) + lines(0, 10))
    readings = read_until(source, 4)
    assert [r.t_dev for r in readings] == pytest.approx([65.516, 65.526, 65.536, 65.546])
    assert source.boot == boot
    assert source.rejects == 0
    source.cleanup()


def test_every_setup_starts_a_new_boot(board: SerialSource) -> None:
    first = board.boot
    board.setup()
    assert board.boot != first


# ----------------------------------------------------------------------------- unplugging


def test_reading_a_closed_source_is_unavailable() -> None:
    source = hx711_source(Hx711Config(device="board-1", url="loop://"))
    with pytest.raises(DeviceUnavailable, match="not open"):
        source.read(0.0)


def test_a_missing_port_is_unavailable(tmp_path: Path) -> None:
    source = hx711_source(Hx711Config(device="board-1", url=str(tmp_path / "ttyNONE")))
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        source.setup()


def test_pty_unplug_raises_unavailable_and_replug_resumes(tmp_path: Path) -> None:
    device = PtyDevice(tmp_path / "ttyBOARD")
    cfg = Hx711Config(device="board-1", url=str(device.link), skip_first_line=False)
    source = hx711_source(cfg)
    source.setup()
    device.write(lines(1000, 1010))
    assert len(read_until(source, 2)) == 2
    first_boot = source.boot

    device.unplug()
    assert isinstance(read_until_unavailable(source), DeviceUnavailable)
    with pytest.raises(DeviceUnavailable):
        source.setup()  # still unplugged: the service backs off and retries

    device.plug()
    source.setup()
    device.write(lines(5, 15))
    resumed = read_until(source, 2)
    assert [r.t_dev for r in resumed] == pytest.approx([0.005, 0.015])
    assert source.boot != first_boot
    source.cleanup()
    device.unplug()


def test_pty_stream_with_garbage_between_good_lines(tmp_path: Path) -> None:
    device = PtyDevice(tmp_path / "ttyBOARD")
    source = hx711_source(
        Hx711Config(device="board-1", url=str(device.link), skip_first_line=False)
    )
    source.setup()
    device.write(
        lines(1000) + b"\x00\xff garbage \xfe\r\n" + lines(1010) + b"1020,1,2\n" + lines(1030)
    )
    readings = read_until(source, 3)
    assert [r.t_dev for r in readings] == pytest.approx([1.0, 1.01, 1.03])
    assert source.rejects == 2
    source.cleanup()
    device.unplug()


@pytest.fixture
def tcp_device() -> Iterator[TcpDevice]:
    device = TcpDevice()
    yield device
    device.close()


def test_socket_device_unplug_and_replug(tcp_device: TcpDevice) -> None:
    cfg = Hx711Config(device="board-1", url=tcp_device.url, skip_first_line=False)
    source = hx711_source(cfg)
    source.setup()
    tcp_device.send(lines(1000, 1010, 1020))
    assert len(read_until(source, 3)) == 3

    tcp_device.unplug()
    assert isinstance(read_until_unavailable(source), DeviceUnavailable)
    with pytest.raises(DeviceUnavailable):
        source.setup()  # connection refused while unplugged

    tcp_device.plug()
    source.setup()
    tcp_device.send(lines(7, 17))
    assert [r.t_dev for r in read_until(source, 2)] == pytest.approx([0.007, 0.017])
    source.cleanup()


def test_socket_stream_cut_anywhere_still_parses(tcp_device: TcpDevice) -> None:
    source = hx711_source(Hx711Config(device="board-1", url=tcp_device.url, skip_first_line=False))
    source.setup()
    payload = lines(*range(1000, 1500, 10))
    tcp_device.wait_client()
    for i in range(0, len(payload), 7):
        tcp_device.send(payload[i : i + 7])
    readings = read_until(source, 50)
    assert len(readings) == 50
    assert source.rejects == 0
    source.cleanup()


# ----------------------------------------------------------------------------- fuzzing

good = st.tuples(
    st.integers(min_value=0, max_value=9), st.integers(min_value=0, max_value=299)
).map(lambda p: f"{p[1]}.{p[0]},1,2,3".encode())
garbage = st.binary(min_size=1, max_size=300).filter(lambda b: b"\n" not in b and b"\r" not in b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.tuples(st.booleans(), good, garbage), min_size=1, max_size=15))
def test_good_lines_survive_any_garbage_between_them(
    items: list[tuple[bool, bytes, bytes]],
) -> None:
    source = loop_board(max_line=128)
    wanted = []
    stream = b""
    for is_good, line, junk in items:
        if is_good:
            stream += line + b"\n"
            wanted.append(float(line.split(b",")[0]))
        else:
            stream += b"x" + junk + b"\n"  # never a number: always rejected
    send(source, stream)
    rejects = len(items) - len(wanted)
    got = []
    for _ in range(20):  # bounded: loop:// delivers everything at once
        got += source.read(0.01)
        if len(got) >= len(wanted) and source.rejects >= rejects:
            break
    source.cleanup()
    assert [r.values[0] for r in got] == wanted
    assert source.rejects == rejects


def test_a_socket_nobody_listens_on_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = hx711_source(Hx711Config(device="board-1", url=f"socket://127.0.0.1:{port}"))
    with pytest.raises(DeviceUnavailable):
        source.setup()


def test_an_untimed_line_in_a_timed_stream_gets_the_next_period(board: SerialSource) -> None:
    send(board, lines(1000) + b"4.5,4.5,4.5,4.5\n" + lines(1020))
    assert [r.t_dev for r in read_until(board, 3)] == pytest.approx([1.0, 1.01, 1.02])


def test_boot_ids_fit_the_wire_schema_even_for_long_device_ids() -> None:
    device = "b" * 64
    source = loop_board(device=device)
    send(source, lines(1000))
    (reading,) = read_until(source, 1)
    batch = SampleBatch(
        device=device,
        kind="board",
        boot=source.boot,
        seq=0,
        t_dev=reading.t_dev,
        period=source.period,
        t_host=1.7e9,
        columns=source.columns,
        rows=(reading.values,),
    )
    assert batch.boot == source.boot
    source.cleanup()
