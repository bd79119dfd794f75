"""Issue 18 on the demo: its digest carries both seed stories with their real publication dates,
its config says why its backlog rule is what it is, and `status` reports the digest it wrote."""

import json

from pipeline.cli import main

SEEDS = {
    "The Ministry of Defense of China is ready to cooperate with the USA": "2023-12-01T16:05:00+00:00",
    "Pentagon Summit: US and Chinese Officials Convene for Talks on Bilateral Relations": "2024-01-10T14:30:00+00:00",
}


def test_the_demo_digest_carries_both_seeds_with_their_publication_dates(demo_output):
    [folder] = [p for p in (demo_output / "digest" / "us-china-milcomm").iterdir() if p.is_dir()]
    entries = {e["headline"]: e for e in json.loads((folder / "digest.json").read_text())["entries"]}
    for title, published in SEEDS.items():
        assert entries[title]["published"] == published
        assert entries[title]["reported_earlier"]  # published long before the day the demo ran
    markdown = (folder / "digest.md").read_text()
    assert "published 1 Dec 2023 16:05 UTC" in markdown and "published 10 Jan 2024 14:30 UTC" in markdown


def test_the_demo_config_says_why_its_backlog_rule_is_what_it_is(demo_output):
    text = (demo_output / "config.toml").read_text()
    assert "max_age_days = 0" in text and "2023 and 2024" in text


def test_status_reports_the_digest_the_demo_just_wrote(demo_output, capsys):
    capsys.readouterr()
    assert main(["status", "--config", str(demo_output / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert "last digest: none" not in out
    assert "last digest: us-china-milcomm " in out and "(in progress" in out
