"""`health` notices dead feeds: one good feed must not hide that most sources, or a critical one, are dead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from config_helpers import write_config

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.models import FeedConfig, Source
from pipeline.service import collect_status
from pipeline.service.health import check_health
from pipeline.service.metrics import render_metrics
from pipeline.store import Store

OUTLETS = ("xinhua", "tass", "reuters", "yonhap")


def setup(tmp_path: Path, now: datetime, failing: dict[str, timedelta], body: str = "",
          critical: tuple[str, ...] = ()) -> Path:
    """Four outlets of one feed each, all polled at `now`; those in `failing` failing since that long."""
    config = write_config(tmp_path, body)
    (tmp_path / "sources").mkdir()
    for name in OUTLETS:
        (tmp_path / "sources" / f"{name}.toml").write_text(
            f'name = "{name}"\n' + ("critical = true\n" if name in critical else "")
            + f'[[feeds]]\nurl = "https://{name}.example/feed.xml"\n', encoding="utf-8")
    with Store(tmp_path / "newswatch.db") as store:
        store.sync_sources([Source(name=n, homepage="", language="en",
                                   feeds=(FeedConfig(url=f"https://{n}.example/feed.xml"),)) for n in OUTLETS])
        for feed in store.feeds():
            if feed["source"] in failing:
                store.update_feed(feed["id"], health="failing", failures=20, last_attempt_at=now,
                                  last_success_at=now - failing[feed["source"]], last_error="connect: refused")
            else:
                store.update_feed(feed["id"], health="ok", last_attempt_at=now, last_success_at=now)
    return config


def problems(config: Path, now: datetime) -> list:
    with Store(config.parent / "newswatch.db") as store:
        return [p for p in check_health(store, load_config(config), now) if p.check == "feeds"]


def test_three_of_four_feeds_failing_for_13_hours_is_unhealthy_and_names_them(tmp_path):
    start = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    config = setup(tmp_path, start, {n: timedelta(0) for n in OUTLETS[:3]})
    assert problems(config, start + timedelta(hours=11)) == []  # failing, but not for long yet
    (problem,) = problems(config, start + timedelta(hours=13))
    assert "3 of 4 feeds have failed for more than 12:00:00" in problem.reason
    assert all(name in problem.reason for name in OUTLETS[:3]) and "yonhap" not in problem.reason
    with Store(config.parent / "newswatch.db") as store:  # the metrics carry the same
        metrics = render_metrics(collect_status(store), [problem])
    assert 'newswatch_health_check_failing{check="feeds"} 1' in metrics and "3 of 4 feeds" in metrics


def test_the_health_command_exits_1_naming_the_dead_feeds(tmp_path, capsys):
    now = datetime.now(UTC)
    config = setup(tmp_path, now, {n: timedelta(hours=13) for n in OUTLETS[:3]})
    assert main(["health", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "unhealthy: 3 of 4 feeds have failed" in out and "xinhua (https://xinhua.example/feed.xml)" in out


def test_half_the_feeds_failing_is_within_the_default_share_and_the_share_is_configurable(tmp_path):
    now = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    config = setup(tmp_path, now, {n: timedelta(days=2) for n in OUTLETS[:2]})
    assert problems(config, now) == []
    config.write_text(config.read_text() + "[health]\nmax_failing_share = 0.25\nmax_failing_hours = 72\n")
    assert problems(config, now) == []  # failing two days, the limit is three
    config.write_text(config.read_text().replace("max_failing_hours = 72", "max_failing_hours = 24"))
    assert "2 of 4 feeds" in problems(config, now)[0].reason


def test_one_critical_feed_failing_long_is_unhealthy(tmp_path):
    now = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    config = setup(tmp_path, now, {"reuters": timedelta(hours=13)}, critical=("reuters",))
    (problem,) = problems(config, now)
    assert problem.reason.startswith("critical feeds have failed for more than 12:00:00: reuters")
