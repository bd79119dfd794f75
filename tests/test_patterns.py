"""User patterns are safe by construction (issue 24, item 2).

A topic pattern or a source's `drop_text` like `(a+)+b` once hung a worker for ever on an article
with 36 "a". Now they run on RE2, in time linear in the text; what RE2 cannot run (backreferences,
lookaround) is refused at start-up with one `FILE:LINE: KEY:` line and exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import write_config
from waiting import COMMAND_DEADLINE

from pipeline.patterns import UnsafePattern, safe_compile

ROOT = Path(__file__).resolve().parents[1]
TOPIC = """\
[topic]
id = "demo"

[thresholds]
mention = 0.3
strong = 0.7

[groups.letters]
en = ["vessel"]
patterns = ["{pattern}"]

[[rules]]
id = "letters"
all = ["letters"]
weight = 0.9
"""


def run(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "run", "--config", str(config)], capture_output=True,
                          text=True, timeout=COMMAND_DEADLINE, cwd=ROOT)


def test_helper_compiles_linear_patterns_and_refuses_backtracking_ones_with_one_line():
    assert safe_compile("hot+line", ignore_case=True).search("the HOTTLINE rang")
    assert not safe_compile("hot+line").search("the HOTTLINE rang")
    for pattern, words in [(r"(a)\1", "backreferences"), (r"(?<=x)y", "lookahead and lookbehind"),
                           (r"x(?!y)", "lookahead and lookbehind")]:
        with pytest.raises(UnsafePattern) as caught:
            safe_compile(pattern)
        assert words in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("where", ["topic", "source"])
def test_a_pattern_that_needs_backtracking_is_refused_at_start_up_with_one_line(tmp_path, where):
    sources = tmp_path / "sources"
    sources.mkdir()
    source = 'name = "news"\nhomepage = "http://127.0.0.1:9/"\n\n[[feeds]]\nurl = "http://127.0.0.1:9/f.xml"\n'
    body = ""
    if where == "topic":
        (tmp_path / "demo.toml").write_text(TOPIC.format(pattern=r"(ves)sel \\1"), encoding="utf-8")
        body = f'[topics]\nfiles = ["{tmp_path / "demo.toml"}"]\n'
        bad, line, key = tmp_path / "demo.toml", 10, "groups.letters.patterns"
    else:
        source += '\n[extract]\ndrop_text = ["(?<=Advertisement)\\\\s"]\n'
        bad, line, key = sources / "news.toml", 8, "extract.drop_text"
    (sources / "news.toml").write_text(source, encoding="utf-8")
    done = run(write_config(tmp_path, body))
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.strip().splitlines()
    assert f" {bad}:{line}: {key}: " in message and "a pattern RE2 can run in linear time expected" in message, message
    assert "Traceback" not in done.stderr


CATASTROPHIC = r"""
import sys
from pathlib import Path
from pipeline.extract import extract_article
from pipeline.models import ExtractionRules
from pipeline.topics import Tagger, load_topics

tagger = Tagger(load_topics([Path(sys.argv[1])]))
text = "a" * 40
tags = tagger.tag("a vessel", text + " and a vessel", "en")
paragraph = "<p>" + text + " " + "word " * 30 + "</p>"
html = "<html><body><article><h1>A vessel</h1>" + paragraph * 3 + "</article></body></html>"
article = extract_article(html, "http://127.0.0.1/x", ExtractionRules(drop_text=("(a+)+b",)))
print(len(tags), len(article.text) > 0)
"""


def test_a_catastrophic_pattern_runs_in_linear_time_in_topics_and_in_drop_text(tmp_path):
    topic = tmp_path / "demo.toml"
    topic.write_text(TOPIC.format(pattern="(a+)+b"), encoding="utf-8")
    # Python's re needs about 2**40 steps here: on the old engine this never returns.
    done = subprocess.run([sys.executable, "-c", CATASTROPHIC, str(topic)], capture_output=True, text=True,
                          timeout=COMMAND_DEADLINE, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "True"], done.stdout
