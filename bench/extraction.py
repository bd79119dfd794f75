"""Benchmark newswatch's article extraction against trafilatura alone, in the same run.

Usage: python bench/extraction.py PATH [--json] [--show-worst N] [--runs N]

PATH is an extraction-bench folder: `html/KEY.html.gz` pages and `ground-truth.json`
(KEY -> {"articleBody", "url"}). Both extractors get the same raw bytes. They are timed page by
page in alternation on one process, so a load spike from other work on the machine hits both
alike and the time ratio stays meaningful; the timings are the median of `--runs` passes.

The pages are split into two fixed halves by sorted key: the *dev half* (even positions) is
where rules are evaluated while working, the *other half* (odd positions) only checks that a
change does not regress; figures are printed for both and for all pages.

Peak memory is the process's peak RSS after the runs: one benchmark process is what one
extraction worker holds. A date that `dateutil` reads with a time-zone name it does not
understand is stored in the wrong zone, so every warning raised during newswatch's extraction
is listed and the run exits non-zero if there was any.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import logging
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from bench.shingle_score import score_page, summarise
from pipeline.extract import extract_article


def load_bench(path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    truth_file, html_dir = path / "ground-truth.json", path / "html"
    if not truth_file.is_file() or not html_dir.is_dir():
        raise SystemExit(f"{path}: expected ground-truth.json and html/ in this folder")
    truth = {key: item["articleBody"] for key, item in json.loads(truth_file.read_text("utf-8")).items()}
    pages = {}
    for key in sorted(truth):
        page = html_dir / f"{key}.html.gz"
        if page.is_file():
            pages[key] = gzip.decompress(page.read_bytes())
    return pages, truth


class SlowPathCounter(logging.Handler):
    """Counts the pages on which the extractor's fast stage was unsure and trafilatura ran."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.pages = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.pages += bool(getattr(record, "slow_path", False))


def newswatch_text(html: bytes) -> str:
    return extract_article(html).text


def trafilatura_text(html: bytes) -> str:
    return trafilatura.extract(html) or ""


def halves(keys: list[str]) -> dict[str, list[str]]:
    ordered = sorted(keys)
    return {"dev half": ordered[0::2], "other half": ordered[1::2], "all": ordered}


Outputs = dict[str, dict[str, str]]  # extractor -> page key -> text
Seconds = dict[str, dict[str, float]]  # extractor -> page key -> seconds


def run(pages: dict[str, bytes], extractors: dict[str, Callable[[bytes], str]], caught: dict[str, list[str]]):
    """One pass: every page through every extractor in turn; outputs and seconds per page.

    Warnings are recorded per extractor and page into `caught` (only ours must be clean).
    """
    outputs: Outputs = {name: {} for name in extractors}
    seconds: Seconds = {name: {} for name in extractors}
    gc.disable()  # collections land on whichever extractor happens to run: keep them out of timings
    try:
        for key, html in pages.items():
            for name, extract in extractors.items():
                with warnings.catch_warnings(record=True) as found:
                    warnings.simplefilter("always")
                    start = time.perf_counter()
                    outputs[name][key] = extract(html)
                    seconds[name][key] = time.perf_counter() - start
                caught[name].extend(f"{key[:12]}: {w.category.__name__}: {w.message}" for w in found)
            gc.collect()
    finally:
        gc.enable()
    return outputs, seconds


def timed_runs(
    pages: dict[str, bytes], extractors: dict[str, Callable[[bytes], str]], runs: int
) -> tuple[Outputs, list[Seconds], dict[str, list[str]]]:
    passes = []
    caught: dict[str, list[str]] = {name: [] for name in extractors}
    for _ in range(runs):
        outputs, seconds = run(pages, extractors, caught)
        passes.append(seconds)
    return outputs, passes, caught


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="extraction-bench folder (html/ and ground-truth.json)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-worst", type=int, default=0, metavar="N", help="list the N worst pages")
    parser.add_argument("--runs", type=int, default=3, help="timed passes; the median is reported")
    args = parser.parse_args(argv)

    pages, truth = load_bench(args.path)
    if not pages:
        raise SystemExit(f"{args.path}: no pages found")
    extractors = {"newswatch": newswatch_text, "trafilatura": trafilatura_text}
    slow = SlowPathCounter()
    extract_logger = logging.getLogger("pipeline.extract.article")
    extract_logger.addHandler(slow)
    extract_logger.setLevel(logging.DEBUG)
    first = next(iter(pages.values()))
    for extract in extractors.values():
        extract(first)  # warm-up: imports, compiled patterns and caches are not what we measure
    slow.pages = 0
    outputs, passes, caught = timed_runs(pages, extractors, max(args.runs, 1))
    slow_share = slow.pages / (len(pages) * len(passes))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    scores = {name: {key: score_page(outputs[name][key], truth[key]) for key in pages} for name in extractors}
    report: dict[str, dict] = {}
    for part, keys in halves(list(pages)).items():
        rows: dict[str, dict[str, float]] = {}
        for name in extractors:
            summary = summarise([scores[name][k] for k in keys])
            per_pass = [sum(p[name][k] for k in keys) for p in passes]
            median = statistics.median(per_pass)
            rows[name] = {
                "f1": summary.f1,
                "precision": summary.precision,
                "recall": summary.recall,
                "exact": summary.exact,
                "pages": summary.pages,
                "seconds": median,
                "pages_per_s": len(keys) / median if median else 0.0,
            }
        # the ratio of each pass, then the median: both extractors ran side by side in that pass
        ratios = [sum(p["newswatch"][k] for k in keys) / sum(p["trafilatura"][k] for k in keys) for p in passes]
        report[part] = {**rows, "time_ratio": statistics.median(ratios), "time_ratios": ratios}
    report["peak_rss_mb"] = peak_mb
    report["slow_path_share"] = slow_share
    ours = list(dict.fromkeys(caught["newswatch"]))
    report["warnings"] = ours

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(pages)} pages from {args.path}, {len(passes)} timed passes (median)")
        for part in halves(list(pages)):
            rows = report[part]
            print(f"\n{part} ({rows['newswatch']['pages']} pages)")
            print(f"{'':12} {'F1':>6} {'prec':>6} {'recall':>6} {'exact':>6} {'pages/s':>8}")
            for name in extractors:
                row = rows[name]
                print(
                    f"{name:12} {row['f1']:6.3f} {row['precision']:6.3f} {row['recall']:6.3f} "
                    f"{row['exact']:6.3f} {row['pages_per_s']:8.1f}"
                )
            passes_text = ", ".join(f"{r:.2f}" for r in rows["time_ratios"])
            print(f"time ratio newswatch/trafilatura: {rows['time_ratio']:.2f} (passes: {passes_text})")
        print(f"\npeak memory (RSS) of this worker process: {peak_mb:.0f} MB")
        print(f"pages where the fast stage was unsure and trafilatura ran: {slow_share:.0%}")
        print(f"warnings raised by newswatch extraction: {len(ours)}")
    for line in ours:
        print(f"warning: {line}", file=sys.stderr)
    if args.show_worst:
        worst = sorted(pages, key=lambda k: scores["newswatch"][k].tp)[: args.show_worst]
        for key in worst:
            s, t = scores["newswatch"][key], scores["trafilatura"][key]
            print(
                f"{key[:12]} newswatch P={s.precision:.2f} R={s.recall:.2f}  "
                f"trafilatura P={t.precision:.2f} R={t.recall:.2f}"
            )
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
