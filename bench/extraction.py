"""Benchmark newswatch's article extraction against trafilatura alone, in the same run.

Usage: python bench/extraction.py PATH [--json] [--show-worst N]

PATH is an extraction-bench folder: `html/KEY.html.gz` pages and `ground-truth.json`
(KEY -> {"articleBody", "url"}). Both extractors get the same raw bytes. They are timed page by
page in alternation on one process, so a load spike from other work on the machine hits both
alike and the time ratio stays meaningful.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from bench.shingle_score import PageScore, score_page, summarise
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


def newswatch_text(html: bytes) -> str:
    return extract_article(html).text


def trafilatura_text(html: bytes) -> str:
    return trafilatura.extract(html) or ""


def run(pages: dict[str, bytes], extractors: dict[str, Callable[[bytes], str]]) -> tuple[dict, dict]:
    outputs: dict[str, dict[str, str]] = {name: {} for name in extractors}
    seconds = dict.fromkeys(extractors, 0.0)
    first = next(iter(pages.values()))
    for extract in extractors.values():
        extract(first)  # warm-up: imports, compiled patterns and caches are not what we measure
    gc.disable()  # collections land on whichever extractor happens to run: keep them out of timings
    try:
        for key, html in pages.items():
            for name, extract in extractors.items():
                start = time.perf_counter()
                outputs[name][key] = extract(html)
                seconds[name] += time.perf_counter() - start
            gc.collect()
    finally:
        gc.enable()
    return outputs, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="extraction-bench folder (html/ and ground-truth.json)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-worst", type=int, default=0, metavar="N", help="list the N worst pages")
    args = parser.parse_args(argv)

    pages, truth = load_bench(args.path)
    if not pages:
        raise SystemExit(f"{args.path}: no pages found")
    extractors = {"newswatch": newswatch_text, "trafilatura": trafilatura_text}
    outputs, seconds = run(pages, extractors)

    report: dict[str, dict[str, float]] = {}
    scores: dict[str, dict[str, PageScore]] = {}
    for name in extractors:
        scores[name] = {key: score_page(outputs[name][key], truth[key]) for key in pages}
        summary = summarise(list(scores[name].values()))
        report[name] = {
            "f1": summary.f1,
            "precision": summary.precision,
            "recall": summary.recall,
            "exact": summary.exact,
            "pages": summary.pages,
            "seconds": seconds[name],
            "pages_per_s": len(pages) / seconds[name] if seconds[name] else 0.0,
        }
    ratio = seconds["newswatch"] / seconds["trafilatura"] if seconds["trafilatura"] else float("inf")

    if args.json:
        print(json.dumps({**report, "time_ratio": ratio}, indent=2))
    else:
        print(f"{len(pages)} pages from {args.path}")
        print(f"{'':12} {'F1':>6} {'prec':>6} {'recall':>6} {'exact':>6} {'pages/s':>8}")
        for name, row in report.items():
            print(
                f"{name:12} {row['f1']:6.3f} {row['precision']:6.3f} {row['recall']:6.3f} "
                f"{row['exact']:6.3f} {row['pages_per_s']:8.1f}"
            )
        print(f"time ratio newswatch/trafilatura: {ratio:.2f}")
    if args.show_worst:
        worst = sorted(pages, key=lambda k: scores["newswatch"][k].tp)[: args.show_worst]
        for key in worst:
            s, t = scores["newswatch"][key], scores["trafilatura"][key]
            print(
                f"{key[:12]} newswatch P={s.precision:.2f} R={s.recall:.2f}  "
                f"trafilatura P={t.precision:.2f} R={t.recall:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
