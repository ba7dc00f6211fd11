"""The controller's outbox on disk: nothing appended is lost, nothing acknowledged comes back."""

from __future__ import annotations

import json
import logging
import math
import random
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest

from fermentrack.controller import outbox as outbox_module
from fermentrack.controller.outbox import COMPACT_MIN_BYTES, Outbox

T0 = 1_700_000_000


def point(ts: int) -> dict:
    return {
        "ts": ts,
        "beer_temp": 19.94,
        "beer_set": 20.0,
        "fridge_temp": 17.31,
        "fridge_set": 16.5,
        "room_temp": 21.12,
        "state": 4,
        "temp_format": "C",
    }


@pytest.fixture
def path(tmp_path):
    return tmp_path / "run" / "dev-fridge-1.outbox"


def test_entries_come_back_oldest_first_with_increasing_ids_per_kind(path):
    outbox = Outbox(path)
    first = outbox.append("point", point(T0))
    note = outbox.append(
        "annotation", {"ts": T0, "text": "Beer temp set to 20.0", "source": "controller"}
    )
    second = outbox.append("point", point(T0 + 30))
    assert first < note < second
    assert outbox.pending("point", 10) == [(first, point(T0)), (second, point(T0 + 30))]
    assert outbox.pending("point", 1) == [(first, point(T0))]
    assert [entry_id for entry_id, _ in outbox.pending("annotation", 10)] == [note]
    assert len(outbox) == 3


def test_each_entry_is_one_json_line_on_disk_before_append_returns(path):
    outbox = Outbox(path)
    entry_id = outbox.append(
        "annotation", {"ts": T0, "text": "Ünïcode\nand a newline", "source": "firmware"}
    )
    # A second reader sees it at once: it was written through, not held in a buffer.
    (line,) = path.read_bytes().splitlines()
    assert json.loads(line) == {
        "id": entry_id,
        "kind": "annotation",
        "item": {"ts": T0, "text": "Ünïcode\nand a newline", "source": "firmware"},
    }


def test_what_was_appended_and_not_acknowledged_is_there_after_a_restart(path):
    outbox = Outbox(path)
    ids = [outbox.append("point", point(T0 + n)) for n in range(10)]
    outbox.acknowledge(ids[:4])
    outbox.close()

    reopened = Outbox(path)
    assert reopened.pending("point", 100) == [(ids[n], point(T0 + n)) for n in range(4, 10)]
    assert len(reopened) == 6


def test_acknowledging_unknown_or_repeated_ids_changes_nothing(path):
    outbox = Outbox(path)
    ids = [outbox.append("point", point(T0 + n)) for n in range(3)]
    outbox.acknowledge([ids[0]])
    size = path.stat().st_size
    outbox.acknowledge([ids[0], 999, -1])
    assert path.stat().st_size == size
    assert [entry_id for entry_id, _ in outbox.pending("point", 10)] == ids[1:]


def test_ids_keep_increasing_across_restarts_even_when_compaction_emptied_the_file(path):
    outbox = Outbox(path)
    entry_count = COMPACT_MIN_BYTES // 100 + 10
    ids = [outbox.append("point", point(T0 + n)) for n in range(entry_count)]
    outbox.acknowledge(ids)
    outbox.close()
    assert path.stat().st_size < 100  # compacted down to the line holding the next id

    reopened = Outbox(path)
    assert len(reopened) == 0
    assert reopened.append("point", point(T0)) == ids[-1] + 1


def test_a_line_cut_short_by_a_crash_is_ignored_with_a_warning_and_later_appends_are_whole(
    path, caplog
):
    outbox = Outbox(path)
    ids = [outbox.append("point", point(T0 + n)) for n in range(3)]
    outbox.close()
    with open(path, "ab") as file:
        file.write(b'{"id":4,"kind":"point","item":{"ts":17000')  # killed in mid-write

    with caplog.at_level(logging.WARNING):
        reopened = Outbox(path)
    assert "cut short by a crash" in caplog.text
    assert [entry_id for entry_id, _ in reopened.pending("point", 10)] == ids
    later = reopened.append("point", point(T0 + 3))
    reopened.close()

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        third = Outbox(path)
    assert caplog.text == ""
    assert [entry_id for entry_id, _ in third.pending("point", 10)] == [*ids, later]


def test_a_line_that_is_not_an_outbox_record_is_skipped_with_a_warning(path, caplog):
    outbox = Outbox(path)
    first = outbox.append("point", point(T0))
    outbox.close()
    with open(path, "ab") as file:
        file.write(b"\x00\xff garbage\n[1, 2]\n")
    outbox = Outbox(path)
    second = outbox.append("point", point(T0 + 1))
    outbox.close()

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        reopened = Outbox(path)
    assert caplog.text.count("is not an outbox record") == 2
    assert [entry_id for entry_id, _ in reopened.pending("point", 10)] == [first, second]


def test_an_unfinished_compaction_is_thrown_away_and_the_old_file_kept(path):
    outbox = Outbox(path)
    ids = [outbox.append("point", point(T0 + n)) for n in range(5)]
    outbox.close()
    leftover = path.with_name(path.name + ".compacting")
    leftover.write_bytes(b'{"next_id":3}\n{"id":1,"kind":"po')

    reopened = Outbox(path)
    assert not leftover.exists()
    assert [entry_id for entry_id, _ in reopened.pending("point", 10)] == ids


@pytest.mark.parametrize(
    ("kind", "item", "message"),
    [
        ("status", {"ts": T0}, "outbox kind 'status': expected 'point' or 'annotation'"),
        ("point", {"ts": T0, "beer_temp": math.nan}, "is not plain JSON"),
        ("point", {"ts": T0, "when": object()}, "is not plain JSON"),
    ],
)
def test_what_the_web_app_could_never_read_is_refused_at_once(path, kind, item, message):
    outbox = Outbox(path)
    with pytest.raises(ValueError, match=message):
        outbox.append(kind, item)
    assert len(outbox) == 0
    assert path.read_bytes() == b""


def test_steady_logging_keeps_the_file_and_memory_bounded_once_acknowledged(path):
    """A point every 10 s, acknowledged as it goes: weeks of it must not grow anything."""
    outbox = Outbox(path)
    largest_file = 0

    def log_points(first: int, count: int) -> None:
        nonlocal largest_file
        for ts in range(first, first + count):
            outbox.append("point", point(ts))
            if ts % 5 == 0:  # the uploader sends what is there, now and then
                outbox.acknowledge([entry_id for entry_id, _ in outbox.pending("point", 1000)])
            largest_file = max(largest_file, path.stat().st_size)

    log_points(T0, 1_000)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        log_points(T0 + 1_000, 6_000)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert after - before < 20_000  # bytes, for 6000 more points
    assert largest_file < 2 * COMPACT_MIN_BYTES + 1000
    outbox.acknowledge([entry_id for entry_id, _ in outbox.pending("point", 1000)])
    assert len(outbox) == 0


def test_points_waiting_for_the_web_app_cost_a_few_bytes_of_memory_each(path):
    outbox = Outbox(path)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for n in range(10_000):  # three and a half days at a 30 s interval
            outbox.append("point", point(T0 + n))
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (after - before) / 10_000 < 40  # bytes an entry: where it is, not what it holds
    assert path.stat().st_size / 10_000 < 200  # bytes an entry on disk
    assert outbox.pending("point", 1) == [(1, point(T0))]


def test_acknowledged_lines_over_the_limit_are_compacted_even_when_under_half(path, monkeypatch):
    monkeypatch.setattr(outbox_module, "COMPACT_AT_BYTES", 100_000)
    outbox = Outbox(path)
    ids = [outbox.append("point", point(T0 + n)) for n in range(3_000)]
    bytes_per_point = path.stat().st_size / 3_000
    outbox.acknowledge(ids[:500])
    assert path.stat().st_size > 2_900 * bytes_per_point  # 500 lines are not over the limit
    outbox.acknowledge(ids[500:1_000])
    assert path.stat().st_size < 2_050 * bytes_per_point  # 1000 lines are
    assert outbox.pending("point", 1) == [(ids[1_000], point(T0 + 1_000))]
    outbox.close()
    reopened = Outbox(path)
    assert len(reopened) == 2_000
    assert reopened.pending("point", 1) == [(ids[1_000], point(T0 + 1_000))]


# -- kill -9 ---------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from fermentrack.controller import outbox as outbox_module

    outbox_module.COMPACT_MIN_BYTES = 2_000  # compact all the time, so kills land in it too
    outbox = outbox_module.Outbox(Path(sys.argv[1]))
    ts = int(sys.argv[2])
    report = open(sys.argv[3], "w", buffering=1)
    report.write("ready\\n")
    while True:
        for _ in range(40):
            entry_id = outbox.append("point", {"ts": ts, "temp_format": "C"})
            report.write(f"appended {entry_id} {ts}\\n")
            ts += 1
        oldest = [entry_id for entry_id, _ in outbox.pending("point", 10**9)][:-5]
        report.write("acking " + " ".join(map(str, oldest)) + "\\n")
        outbox.acknowledge(oldest)
        report.write("acked\\n")
    """
)


def test_a_writer_killed_at_random_moments_loses_no_append_and_revives_no_acknowledgement(
    path, tmp_path, caplog
):
    randomness = random.Random(5)
    appended: dict[int, int] = {}  # entry id -> ts, for every append that returned
    acknowledged: set[int] = set()  # every acknowledge that returned
    path.parent.mkdir(parents=True)
    for round_number in range(12):
        report = tmp_path / f"report-{round_number}.txt"
        writer = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(path),
                str(T0 + round_number * 1_000_000),
                str(report),
            ],
        )
        deadline = time.monotonic() + 30
        while not (report.exists() and report.read_text().startswith("ready")):
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.01)
        time.sleep(randomness.uniform(0.02, 0.4))
        writer.kill()
        writer.wait()

        in_doubt: set[int] = set()  # an acknowledge the kill interrupted
        for line in report.read_text().splitlines():
            word, *values = line.split()
            if word == "appended" and len(values) == 2:
                appended[int(values[0])] = int(values[1])
            elif word == "acking":
                in_doubt = {int(value) for value in values}
            elif word == "acked":
                acknowledged |= in_doubt
                in_doubt = set()

        with caplog.at_level(logging.WARNING):
            outbox = Outbox(path)
        assert "not an outbox record" not in caplog.text
        pending = dict(outbox.pending("point", 10**9))
        outbox.close()
        assert not pending.keys() & acknowledged, "an acknowledged entry came back"
        missing = appended.keys() - acknowledged - in_doubt - pending.keys()
        assert not missing, "appended entries were lost"
        for entry_id, item in pending.items():
            # At most one entry whose append the kill interrupted after it reached the disk.
            assert appended.get(entry_id, item["ts"]) == item["ts"]
        # An interrupted acknowledge either reached the disk or did not; now we know which.
        acknowledged |= in_doubt - pending.keys()
        unconfirmed = pending.keys() - appended.keys()
        assert len(unconfirmed) <= 1
        appended.update({entry_id: pending[entry_id]["ts"] for entry_id in unconfirmed})

    assert len(appended) > 1000
    assert outbox_module.Outbox(path).append("point", point(T0)) > max(appended)
