"""Benchmark newswatch's article extraction against trafilatura and readability-lxml, in the same run.

Usage: python bench/extraction.py PATH [--json] [--show-worst N] [--runs N] [--sample N] [--losses FILE]

PATH is an extraction-bench folder: `html/KEY.html.gz` pages and `ground-truth.json`
(KEY -> {"articleBody", "url"}): `../shared/extraction-bench` (ScrapingHub's 89 news pages) or
`../shared/extraction-wcxb` (711 pages of WCXB's development split). Pages whose truth is empty
are skipped. The three extractors get the same raw bytes: newswatch, trafilatura in full (its
fallback cascade on, as `trafilatura.extract` runs by default) and readability-lxml (its summary
laid out as paragraphs). They are timed page by page in alternation on one process, so a load
spike from other work on the machine hits all alike and the time ratios stay meaningful; the
timings are the median of `--runs` passes.

Two metrics are printed side by side: the shingle metric of `bench/shingle_score.py` (word
4-grams, ScrapingHub's benchmark) and WCXB's (lower-cased `\\w+` tokens as a bag of words,
precision, recall and F1 per page, averaged over pages).

The pages are split into two fixed halves by sorted key: the *dev half* (even positions) is
where rules are evaluated while working, the *other half* (odd positions) only checks that a
change does not regress; figures are printed for both and for all pages. `--sample N` keeps
every N-th page (a quick look while iterating; the full set decides).

`--losses FILE` writes one tab-separated line per page, worst newswatch WCXB F1 first, with
every extractor's figures: the per-page record that makes a regression visible and readable.
`bench/results/` keeps the files of the last full runs on both sets (page keys and figures only,
none of the benchmarks' text), so a change's diff shows the pages it moved.

Peak memory is the process's peak RSS after the runs. A date that `dateutil` reads with a
time-zone name it does not understand is stored in the wrong zone, so every warning raised
during newswatch's extraction is listed and the run exits non-zero if there was any, or if
newswatch raised on any page.
"""

from __future__ import annotations

import argparse
import copy
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
from readability import Document

from bench.shingle_score import bag_score, score_page, summarise, summarise_bags
from pipeline.extract import extract_article
from pipeline.extract.blocks import block_paragraphs
from pipeline.extract.parse import parse_html
from pipeline.fetch import decode_html


def load_bench(path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    truth_file, html_dir = path / "ground-truth.json", path / "html"
    if not truth_file.is_file() or not html_dir.is_dir():
        raise SystemExit(f"{path}: expected ground-truth.json and html/ in this folder")
    truth = {key: item["articleBody"] for key, item in json.loads(truth_file.read_text("utf-8")).items()}
    pages = {}
    for key in sorted(truth):
        page = html_dir / f"{key}.html.gz"
        if page.is_file() and (truth[key] or "").strip():  # an empty truth cannot be scored
            pages[key] = gzip.decompress(page.read_bytes())
    return pages, truth


class SlowPathCounter(logging.Handler):
    """Records the pages on which the extractor's fast stage was unsure and the slow path ran."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.hits = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.hits += bool(getattr(record, "slow_path", False))


class Raised(Exception):
    pass


def newswatch_text(html: bytes) -> str:
    article = extract_article(html)
    if article.reason and article.reason.startswith("extraction failed"):
        raise Raised(article.reason)
    return article.text


def trafilatura_text(html: bytes) -> str:
    return trafilatura.extract(html) or ""


def readability_text(html: bytes) -> str:
    # readability-lxml parses by itself; give it the same decoded text the others read
    tree = parse_html(decode_html(html, None))
    if tree is None:
        return ""
    summary = Document(copy.deepcopy(tree)).summary(html_partial=True)
    root = parse_html(summary)
    return "\n".join(block_paragraphs(root)) if root is not None else ""


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "newswatch": newswatch_text,
    "trafilatura": trafilatura_text,
    "readability": readability_text,
}


def halves(keys: list[str]) -> dict[str, list[str]]:
    ordered = sorted(keys)
    return {"dev half": ordered[0::2], "other half": ordered[1::2], "all": ordered}


Outputs = dict[str, dict[str, str]]  # extractor -> page key -> text
Seconds = dict[str, dict[str, float]]  # extractor -> page key -> seconds


def run(
    pages: dict[str, bytes],
    extractors: dict[str, Callable[[bytes], str]],
    caught: dict[str, list[str]],
    raised: dict[str, list[str]],
    slow: SlowPathCounter,
    slow_pages: set[str],
):
    """One pass: every page through every extractor in turn; outputs and seconds per page.

    Warnings and exceptions are recorded per extractor and page (only ours must be clean).
    """
    outputs: Outputs = {name: {} for name in extractors}
    seconds: Seconds = {name: {} for name in extractors}
    gc.disable()  # collections land on whichever extractor happens to run: keep them out of timings
    try:
        for key, html in pages.items():
            for name, extract in extractors.items():
                before = slow.hits
                with warnings.catch_warnings(record=True) as found:
                    warnings.simplefilter("always")
                    start = time.perf_counter()
                    try:
                        outputs[name][key] = extract(html)
                    except Exception as err:  # a competitor's crash is its score, ours fails the run
                        outputs[name][key] = ""
                        raised[name].append(f"{key[:12]}: {type(err).__name__}: {err}"[:200])
                    seconds[name][key] = time.perf_counter() - start
                caught[name].extend(f"{key[:12]}: {w.category.__name__}: {w.message}" for w in found)
                if name == "newswatch" and slow.hits > before:
                    slow_pages.add(key)
            gc.collect()
    finally:
        gc.enable()
    return outputs, seconds


def write_losses(path: Path, pages: list[str], extractors: list[str], scores, bags, slow_pages: set[str]) -> None:
    ordered = sorted(pages, key=lambda k: (bags["newswatch"][k].f1, k))
    header = ["key", "slow"] + [f"{name}_{m}" for name in extractors for m in ("bagF1", "bagP", "bagR", "shingleF1")]
    lines = ["\t".join(header)]
    for key in ordered:
        row = [key, "1" if key in slow_pages else "0"]
        for name in extractors:
            b, s = bags[name][key], scores[name][key]
            f1 = 2 * s.precision * s.recall / (s.precision + s.recall) if s.precision + s.recall else 0.0
            row += [f"{b.f1:.3f}", f"{b.precision:.3f}", f"{b.recall:.3f}", f"{f1:.3f}"]
        lines.append("\t".join(row))
    path.write_text("\n".join(lines) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="extraction-bench folder (html/ and ground-truth.json)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-worst", type=int, default=0, metavar="N", help="list the N worst pages")
    parser.add_argument("--runs", type=int, default=1, help="timed passes; the median is reported")
    parser.add_argument("--sample", type=int, default=1, metavar="N", help="keep every N-th page")
    parser.add_argument("--only", choices=list(EXTRACTORS), action="append", help="run only these extractors")
    parser.add_argument("--losses", type=Path, metavar="FILE", help="write per-page figures (TSV) here")
    args = parser.parse_args(argv)

    pages, truth = load_bench(args.path)
    if args.sample > 1:
        pages = {key: pages[key] for key in sorted(pages)[:: args.sample]}
    if not pages:
        raise SystemExit(f"{args.path}: no pages found")
    names = args.only or list(EXTRACTORS)
    if "newswatch" not in names:
        names.insert(0, "newswatch")
    extractors = {name: EXTRACTORS[name] for name in EXTRACTORS if name in names}
    slow = SlowPathCounter()
    extract_logger = logging.getLogger("pipeline.extract.article")
    extract_logger.addHandler(slow)
    extract_logger.setLevel(logging.DEBUG)
    first = next(iter(pages.values()))
    for extract in extractors.values():
        extract(first)  # warm-up: imports, compiled patterns and caches are not what we measure
    passes: list[Seconds] = []
    caught: dict[str, list[str]] = {name: [] for name in extractors}
    raised: dict[str, list[str]] = {name: [] for name in extractors}
    slow_pages: set[str] = set()
    for _ in range(max(args.runs, 1)):
        outputs, seconds = run(pages, extractors, caught, raised, slow, slow_pages)
        passes.append(seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    scores = {name: {key: score_page(outputs[name][key], truth[key]) for key in pages} for name in extractors}
    bags = {name: {key: bag_score(outputs[name][key], truth[key]) for key in pages} for name in extractors}
    report: dict[str, dict] = {}
    for part, keys in halves(list(pages)).items():
        rows: dict[str, dict[str, float]] = {}
        for name in extractors:
            summary = summarise([scores[name][k] for k in keys])
            bag = summarise_bags([bags[name][k] for k in keys])
            per_pass = [sum(p[name][k] for k in keys) for p in passes]
            median = statistics.median(per_pass)
            rows[name] = {
                "bag_f1": bag.f1,
                "bag_precision": bag.precision,
                "bag_recall": bag.recall,
                "f1": summary.f1,
                "precision": summary.precision,
                "recall": summary.recall,
                "exact": summary.exact,
                "pages": summary.pages,
                "seconds": median,
                "pages_per_s": len(keys) / median if median else 0.0,
            }
        # the ratio of each pass, then the median: the extractors ran side by side in that pass
        ratios = {
            name: statistics.median(
                sum(p["newswatch"][k] for k in keys) / (sum(p[name][k] for k in keys) or 1e-9) for p in passes
            )
            for name in extractors
            if name != "newswatch"
        }
        report[part] = {**rows, "time_ratio": ratios}
    report["peak_rss_mb"] = peak_mb
    report["slow_path_share"] = len(slow_pages) / len(pages)
    ours = list(dict.fromkeys(caught["newswatch"]))
    report["warnings"] = ours
    report["raised"] = {name: len(found) for name, found in raised.items()}

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(pages)} pages from {args.path}, {len(passes)} timed pass(es) (median)")
        for part in halves(list(pages)):
            rows = report[part]
            print(f"\n{part} ({rows['newswatch']['pages']} pages)      WCXB bag-of-words     | shingle (4-gram)")
            print(f"{'':12} {'F1':>6} {'prec':>6} {'recall':>6} | {'F1':>6} {'prec':>6} {'recall':>6} {'exact':>6} "
                  f"{'pages/s':>8}")
            for name in extractors:
                row = rows[name]
                print(
                    f"{name:12} {row['bag_f1']:6.3f} {row['bag_precision']:6.3f} {row['bag_recall']:6.3f} | "
                    f"{row['f1']:6.3f} {row['precision']:6.3f} {row['recall']:6.3f} {row['exact']:6.3f} "
                    f"{row['pages_per_s']:8.1f}"
                )
            ratio_text = ", ".join(f"newswatch/{name} {r:.2f}" for name, r in rows["time_ratio"].items())
            print(f"time ratio: {ratio_text}")
        print(f"\npeak memory (RSS) of this worker process: {peak_mb:.0f} MB")
        print(f"pages where the fast stage was unsure and the slow path ran: {report['slow_path_share']:.0%}")
        print("pages that raised: " + ", ".join(f"{name} {n}" for name, n in report["raised"].items()))
        print(f"warnings raised by newswatch extraction: {len(ours)}")
    for line in ours + raised["newswatch"]:
        print(f"newswatch: {line}", file=sys.stderr)
    if args.losses:
        write_losses(args.losses, sorted(pages), list(extractors), scores, bags, slow_pages)
    if args.show_worst:
        worst = sorted(pages, key=lambda k: bags["newswatch"][k].f1)[: args.show_worst]
        for key in worst:
            figures = "  ".join(
                f"{name} P={bags[name][key].precision:.2f} R={bags[name][key].recall:.2f}" for name in extractors
            )
            print(f"{key[:12]} {figures}")
    return 1 if ours or raised["newswatch"] else 0


if __name__ == "__main__":
    sys.exit(main())
