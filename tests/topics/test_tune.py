"""`newswatch topics tune`: the replayed scores are the tagger's, the fit moves a rule only for a
reason it can show, the report is cross-validated, and --write writes a new file that loads."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.cli import EVALUATION_SET, main
from pipeline.config import bundled_topic
from pipeline.store import SqliteStore
from pipeline.topics import Tagger, load_topics
from pipeline.topics.tune import evaluation_items, format_report, rewrite_topic, tune

ARCTIC = """
[topic]
id = "arctic-shipping"
name = "Arctic shipping routes"

[thresholds]
mention = 0.3  # a comment the rewrite keeps
strong = 0.7

[groups.arctic]
en = ["Arctic", "Northern Sea Route"]

[groups.shipping]
en = ["ship*", "cargo", "vessel"]

[[rules]]
id = "arctic-shipping"
all = ["shipping", "arctic"]
weight = 0.2  # too low: one sentence never reaches the mention threshold
"""


def arctic_items() -> list[dict]:
    relevant = [{"id": f"r{i}", "title": f"Report {i}", "text": f"A cargo vessel number {i} crossed the Arctic.",
                 "lang": "en", "label": True, "origin": "verdict"} for i in range(12)]
    other = [{"id": f"n{i}", "title": f"Other {i}", "text": f"The Arctic ice melted early in year {i}.",
              "lang": "en", "label": False, "origin": "verdict"} for i in range(12)]
    return relevant + other


def test_the_replayed_scores_are_the_taggers_on_the_evaluation_set():
    topic = load_topics([bundled_topic("us-china-milcomm")])[0]
    items = evaluation_items(EVALUATION_SET, topic.id)
    assert len(items) > 200
    report = tune(Tagger([topic]), topic, items)
    assert report.mismatches == 0
    assert report.before.n == len(items) and report.before_cv.n == len(items) and report.after_cv.n == len(items)
    assert report.before.recall > 0.9 and report.before.precision > 0.9


def test_a_rule_too_weak_for_the_verdicts_is_raised_and_the_reason_named(tmp_path: Path):
    path = tmp_path / "arctic-shipping.toml"
    path.write_text(ARCTIC, encoding="utf-8")
    topic = load_topics([path])[0]
    report = tune(Tagger([topic]), topic, arctic_items())
    assert (report.before.recall, report.before.precision) == (0.0, 1.0)
    assert report.after_cv.recall == 1.0 and report.after_cv.precision == 1.0  # every held-out fold
    (change,) = report.changes
    assert change.rule == "arctic-shipping" and change.before == 0.2 and change.after >= 0.3
    assert sorted(change.gained) == sorted(f"r{i}" for i in range(12)) and not change.added_errors
    text = format_report(report)
    assert "rule arctic-shipping: weight 0.2 -> " in text and "tags 12 relevant item(s) it missed" in text
    assert "precision 1.000  recall 0.000" in text
    written = tmp_path / "tuned.toml"
    written.write_text(rewrite_topic(ARCTIC, report), encoding="utf-8")
    tuned = load_topics([written])[0]
    assert tuned.rules[0].weight == change.after
    assert "# a comment the rewrite keeps" in written.read_text(encoding="utf-8")
    assert Tagger([tuned]).tag("Report", "A cargo vessel crossed the Arctic.")


def test_nothing_moves_without_a_gain(tmp_path: Path):
    path = tmp_path / "arctic-shipping.toml"
    path.write_text(ARCTIC.replace("weight = 0.2", "weight = 0.5"), encoding="utf-8")
    topic = load_topics([path])[0]
    report = tune(Tagger([topic]), topic, arctic_items())
    assert report.changes == [] and report.fitted.mention == 0.3
    assert "no change would raise F1" in format_report(report)
    assert rewrite_topic(path.read_text(encoding="utf-8"), report) == path.read_text(encoding="utf-8")


def test_topics_tune_on_the_demo_prints_before_and_after_and_writes_only_when_asked(demo_output, tmp_path, capsys):
    demo = tmp_path / "demo"
    shutil.copytree(demo_output, demo)
    with SqliteStore(demo / "newswatch.db") as store:
        trade = next(r["id"] for r in store.search_items("Geneva tariffs"))
        store.set_feedback(trade, "us-china-milcomm", verdict="relevant")
    config = str(demo / "config.toml")
    assert main(["topics", "tune", "us-china-milcomm", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "1 reader's verdicts" in out
    assert "rules as they are, all items" in out and "tuned, 5-fold cross-validated" in out
    assert out.count("precision") == 3 and out.count("recall") == 3
    assert "nothing written" in out
    assert not list(demo.rglob("*.tuned.toml"))
    target = tmp_path / "tuned.toml"
    assert main(["topics", "tune", "us-china-milcomm", "--config", config, "--write", str(target)]) == 0
    assert load_topics([target])[0].id == "us-china-milcomm"
    assert main(["topics", "tune", "no-such-topic", "--config", config]) == 2
    assert "no topic 'no-such-topic'" in capsys.readouterr().err
