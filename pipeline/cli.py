"""The `newswatch` command line. Each command loads and validates the configuration first."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

from pipeline.errors import ConfigError, all_errors

log = logging.getLogger("newswatch")
DEFAULT_CONFIG = "config.toml"
DEMO_CONFIG = "demo-output/config.toml"
CONFIG_ENV = "NEWSWATCH_CONFIG"
# The tagging evaluation set, in a source checkout (`topics tune` uses it beside the verdicts).
EVALUATION_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "tagging"


def _shown_path(path: str | Path) -> str:
    """A path as the user can paste it from where they are: relative below the working directory."""
    absolute = Path(path).absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def command_name() -> str:
    """How the user can type this command from where they are: `newswatch` when that name on PATH is
    this very program, else the script's path (`.venv/bin/newswatch` after `make demo`)."""
    script = Path(sys.argv[0])
    if script.name != "newswatch":  # `python -m pipeline`, or inside the tests
        script = Path(sys.executable).parent / "newswatch"
    if not script.exists():
        return f"{_shown_path(sys.executable)} -m pipeline"
    on_path = shutil.which("newswatch")
    if on_path and os.path.samefile(on_path, script):
        return "newswatch"
    shown = _shown_path(script)
    return shown if "/" in shown else f"./{shown}"


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


class NoDatabase(Exception):
    pass


def _stored(args: argparse.Namespace):
    """The config and its database, for commands that read what `poll` or `run` stored: they must
    not create an empty database by accident."""
    from pipeline.config import load_config
    from pipeline.store import open_store, store_exists

    config = load_config(args.config)
    if not store_exists(config):
        hint = ""
        if Path(DEMO_CONFIG).exists():  # the user has just run `make demo` and wants to see it
            hint = f"; for the demo's: {command_name()} {args.command} --config {DEMO_CONFIG}"
        raise NoDatabase(f"no database yet at {config.db_path}: run `{command_name()} poll --config {args.config}` "
                         f"or `{command_name()} run --config {args.config}` first" + hint)
    return config, open_store(config)


def _context(args: argparse.Namespace):
    from pipeline.context import load_context

    return load_context(args.config)


# -- commands -------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.service import AlreadyRunning, Service

    ctx = _context(args)
    try:
        return Service(ctx, tick_seconds=args.tick, metrics_port=args.metrics_port, role=args.role).run()
    except AlreadyRunning as exc:
        print(f"newswatch: another service is running: {exc}", file=sys.stderr)
        return 1


def cmd_poll(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipeline.service import run_cycle

    ctx = _context(args)
    with ctx.open_store() as store:
        # Counted before and after, not by time: a timestamp has whole seconds, and a poll can be quick.
        before = store.source_arrivals()
        feeds = len(store.due_feeds())
        show = sys.stderr.isatty() and not args.quiet
        with tqdm(total=feeds, desc="feeds", unit="feed", disable=not show) as fbar, \
                tqdm(desc="articles", unit="article", disable=not show) as abar:
            report = run_cycle(ctx, store, on_feed=fbar.update, on_entry=abar.update)
        after = store.source_arrivals()
    p, q = report.poll, report.process
    for name, (total, backlog) in after.items():
        new, new_backlog = total - before.get(name, (0, 0))[0], backlog - before.get(name, (0, 0))[1]
        if new:
            print(f"{name}: {new} new items" + (f", {new_backlog} backlog" if new_backlog else ""))
    print(f"polled {p.feeds} feeds: {p.ok} ok ({p.unchanged} unchanged), {p.not_modified} not modified, "
          f"{p.failed} failed; "
          f"{p.new_items} new items; processed {q.processed} ({q.tagged} tagged, {q.retried} to retry, "
          f"{q.fallback} from feed text)")
    for outcome in report.alerts:
        print(outcome)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from pipeline.digest import make_digest
    from pipeline.digest.days import parse_day

    ctx = _context(args)
    if args.ack:
        return _ack_digest(ctx, args.ack)
    today = datetime.now(ctx.config.tz).date()
    try:
        day = parse_day(args.date, today) if args.date else today
    except ValueError as exc:
        print(f"newswatch: digest --date: {exc}", file=sys.stderr)
        return 2
    with ctx.open_store() as store:
        outcomes = make_digest(store, ctx.config, day, resend=args.resend, send=args.send)
        if args.send and ctx.config.channels:
            from pipeline.alerts import deliver_digests

            outcomes += deliver_digests(store, ctx.config, day=day)
    for outcome in outcomes:
        print(outcome)
    return 0


def _ack_digest(ctx, value: str) -> int:  # ctx: a loaded Context
    """`digest --ack DAY`: a person has seen that the day's digests were not delivered and accepts
    it; health stops reporting them. Delivered ones and sends in flight are left as they are."""
    try:
        day = date.fromisoformat(value).isoformat()
    except ValueError:
        print(f"newswatch: --ack: expected a day as YYYY-MM-DD, got {value!r}", file=sys.stderr)
        return 2
    wanted = [*(["files"] if ctx.config.digest.formats else []), *(["email"] if ctx.config.email.enabled else [])]
    with ctx.open_store() as store:
        records = {(r["topic"], r["channel"], r["kind"]): r for r in store.digest_records() if r["day"] == day}
        for topic in ctx.config.digest.topics:
            for channel in wanted:
                records.setdefault((topic, channel, "daily"), None)
        for (topic, channel, kind), record in sorted(records.items()):
            status = record["status"] if record else "not attempted"
            name = f"{topic} {'' if kind == 'daily' else kind + ' '}{day} via {channel}"
            if status in ("sent", "skipped", "acknowledged", "sending", "resending"):
                print(f"{name}: {status}, left as it is")
                continue
            store.save_digest_record(topic, day, channel, kind, status="acknowledged", next_attempt_at=None)
            print(f"{name}: acknowledged (was {status})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.errors import ConfigError
    from pipeline.service import collect_status, format_status
    from pipeline.topics import load_topics

    config, store = _stored(args)
    try:
        topic_objects = load_topics(config.topic_files)
    except ConfigError:
        topic_objects = []  # a broken topic file is reported where it is loaded; status still answers
    with store:
        status = collect_status(store, config.sources_dir, digest_dir=config.digest_dir,
                                topics=list(config.digest.topics), channels=[c.name for c in config.channels],
                                topic_objects=topic_objects)
    if args.json:
        _print_json(status)
    else:
        print(format_status(status))
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from datetime import UTC, timedelta

    from pipeline.service import check_health
    from pipeline.store import StoreUnavailable

    try:
        config, store = _stored(args)
    except (NoDatabase, StoreUnavailable) as exc:
        print(f"unhealthy: {exc}")
        return 1
    with store:
        max_poll_age = timedelta(minutes=args.max_poll_age) if args.max_poll_age else None
        problems = check_health(store, config, datetime.now(UTC), max_poll_age)
    for problem in problems:
        print(f"unhealthy: {problem}")
    if not problems:
        print("healthy")
    return 1 if problems else 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from pipeline.service import analyse

    ctx = _context(args)
    done = kept = 0
    with ctx.open_store() as store:
        for row in list(store.articles(args.source)):
            if row["html"] is None:
                kept += 1  # retention dropped the page: the stored text stays as it is
                continue
            source = ctx.sources.get(row["source"])
            article, tags = analyse(row["html"], row["url"], row["content_type"], source.rules if source else None,
                                    frozenset(), row["summary"] or "", tagger=ctx.tagger)
            article.title = article.title or row["feed_title"] or ""
            store.complete_entry(row["id"], article, tags, html=row["html"], content_type=row["content_type"],
                                 max_age=ctx.config.max_age(source))
            done += 1
    print(f"re-extracted and re-tagged {done} items; {kept} without a stored page kept their text")
    return 0


def cmd_vacuum(args: argparse.Namespace) -> int:
    from datetime import timedelta

    config, store = _stored(args)
    with store:
        days = config.storage.keep_html_days
        before = store.size_bytes()  # the file and its write-ahead log, before anything is dropped
        dropped = store.prune_html(timedelta(days=days)) if days else 0
        store.vacuum()
        after = store.size_bytes()
    change = (f"freed {before - after:,} bytes" if after <= before
              else f"grew by {after - before:,} bytes")
    print(f"dropped {dropped} stored pages older than {config.storage.keep_html_days} days; "
          f"database {before:,} -> {after:,} bytes: {change}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    ctx = _context(args)
    stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"]
            except (json.JSONDecodeError, KeyError, TypeError):
                print(f"newswatch classify: line {number}: expected a JSON object with \"id\" and \"text\"",
                      file=sys.stderr)
                continue
            tags = ctx.tagger.tag(item.get("title") or "", text, item.get("language"))
            print(json.dumps({"id": item.get("id"), "tags": [
                {"topic": t.topic, "score": round(t.score, 4), "level": t.level,
                 "evidence": [{"sentence": e.sentence, "terms": list(e.terms)} for e in t.evidence]}
                for t in tags
            ]}, ensure_ascii=False))
    return 0


def _load_document(target: str, ctx, source_name: str | None = None):
    """An Article from a stored entry (id or URL), a local file, or a URL fetched now."""
    from pipeline.models import Article

    rules = ctx.sources[source_name].rules if source_name else None
    path = Path(target)
    if path.exists():
        from pipeline.extract import extract_article

        return extract_article(path.read_bytes(), None, rules)
    from pipeline.store import open_store, store_exists

    if store_exists(ctx.config):
        with open_store(ctx.config) as store:
            row = store.find_entry(target)
        if row:
            return Article(title=row["article_title"] or row["title"] or "", text=row["text"] or row["summary"] or "",
                           language=row["language"])
    if target.startswith(("http://", "https://")):
        from pipeline.extract import extract_article
        from pipeline.fetch import BadUrl, fetch_once, parse_url

        url = parse_url(target)
        if isinstance(url, BadUrl):
            raise SystemExit(f"newswatch: cannot fetch {target}: {url.reason}")
        result = fetch_once(url.text, ctx.config.network)
        if not result.ok:
            raise SystemExit(f"newswatch: cannot fetch {target}: {result.error}")
        return extract_article(result.body, result.final_url, rules, content_type=result.content_type or None)
    raise SystemExit(f"newswatch: {target} is not a file, a stored entry id or URL, or an http(s) URL")


def cmd_extract(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if args.source and args.source not in ctx.sources:
        print(f"newswatch: no source named {args.source!r}; see `{command_name()} sources list --config {args.config}`",
              file=sys.stderr)
        return 2
    article = _load_document(args.target, ctx, args.source)
    _print_json(asdict(article))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from pipeline.topics import format_explanation

    ctx = _context(args)
    article = _load_document(args.target, ctx)
    explanation = ctx.tagger.explain(article.title, article.text, article.language)
    if args.json:
        _print_json(explanation)
    else:
        when = _publication_line(args.target, ctx)
        print(format_explanation(explanation) + (f"\n{when}" if when else ""))
    return 0


def _publication_line(target: str, ctx) -> str | None:
    """For a stored item: its one publication time, where it came from, and whether it is backlog."""
    from pipeline.store import open_store, parse_iso, store_exists

    if Path(target).exists() or not store_exists(ctx.config):
        return None
    with open_store(ctx.config) as store:
        row = store.find_entry(target)
    if not row or not row.get("published_at"):
        return None
    published = parse_iso(row["published_at"]).astimezone(ctx.config.tz)
    line = f"published {published:%Y-%m-%d %H:%M %Z} (date from the {row['published_from']})"
    return line + (f"; backlog ({row['backlog']}): in no digest" if row.get("backlog") else "")


def cmd_retag(args: argparse.Namespace) -> int:
    ctx = _context(args)
    count = tagged = 0
    with ctx.open_store() as store:
        for row in list(store.articles()):
            tags = ctx.tagger.tag(row["title"] or row["feed_title"] or "", row["text"] or "", row["language"])
            store.replace_tags(row["id"], tags)
            count += 1
            tagged += bool(tags)
        feedback = store.feedback()
    print(f"re-tagged {count} items: {tagged} tagged")
    if feedback:
        print(_feedback_agreement(feedback))
    return 0


def _feedback_agreement(rows: list[dict]) -> str:
    """How the rules as they are now agree with the reader: the measure of a rule change."""
    wrong = [r for r in rows if r["verdict"] == "not_relevant"]
    missed = [r for r in rows if r["verdict"] == "relevant"]
    still = [r["entry_id"] for r in wrong if r["level"]]
    caught = [r["entry_id"] for r in missed if r["level"]]
    line = (f"feedback: the rules still tag {len(still)} of {len(wrong)} items marked not relevant, "
            f"and now tag {len(caught)} of {len(missed)} marked missed")
    left = still + [r["entry_id"] for r in missed if not r["level"]]
    return line + (f"; to look at: {', '.join(map(str, left))}" if left else "")


def cmd_search(args: argparse.Namespace) -> int:
    _, store = _stored(args)
    with store:
        rows = store.search(args.query, limit=args.limit)
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        print(f"{row['id']:>6}  {row['source']}: {row['title']}\n        {row['url']}\n        {row['snippet']}")
    if not rows:
        print("no matches")
    return 0


def cmd_channels_test(args: argparse.Namespace) -> int:
    """Send a test message on each channel (or those named) and print what each answered; exit 1
    when any failed, so a deploy script can stop on it."""
    from pipeline.alerts import send_test

    ctx = _context(args)
    names = _channel_names(ctx.config, args.names)
    if names is None:
        return 2
    with ctx.open_store() as store:
        outcomes = send_test(store, ctx.config, names)
    for outcome in outcomes:
        answer = "delivered" if outcome.status == "sent" else outcome.detail
        print(f"{outcome.channel}: {outcome.status} — {answer}")
    return 0 if all(o.status == "sent" for o in outcomes) else 1


def cmd_channels_list(args: argparse.Namespace) -> int:
    from datetime import UTC, timedelta

    from pipeline.alerts.channels import describe
    from pipeline.alerts.outbox import channel_states, describe_state

    config, store = _stored(args)
    with store:
        states = {r["channel"]: r for r in channel_states(store, [c.name for c in config.channels])}
        failures = store.events_since(datetime.now(UTC) - timedelta(days=30), kinds=["channel_failed"])
    for channel in config.channels:
        topics = ", ".join(channel.topics) if channel.topics else "every topic"
        print(f"{channel.name}: {describe(config.channel_urls[channel.name])} (from ${channel.url_env})")
        print(f"    receives {', '.join(channel.receives)}; {topics}; alerts at {channel.alert_level}")
        state = states[channel.name]
        print(f"    {describe_state(state)}")
        last = next((e for e in reversed(failures) if e["message"].startswith(f"{channel.name}: ")), None)
        if last and not state["last_failed_at"]:
            print(f"    last failure {last['at']}: {last['message'].split(': ', 1)[1]}")
    if not config.channels:
        print("no [[channels]] in the configuration")
    return 0


def _channel_names(config, names: list[str]) -> list[str] | None:
    known = [c.name for c in config.channels]
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"newswatch: channels: no channel named {unknown[0]!r}; configured: {', '.join(known) or 'none'}",
              file=sys.stderr)
        return None
    if not known:
        print("newswatch: channels: no [[channels]] in the configuration", file=sys.stderr)
        return None
    return names or known


def cmd_sources_list(args: argparse.Namespace) -> int:
    ctx = _context(args)
    for source in sorted(ctx.sources.values(), key=lambda s: (s.category, s.name)):
        folder = f"  [{source.category}]" if source.category else ""
        print(f"{source.name}  ({source.language}, {source.homepage}){folder}")
        for feed in source.feeds:
            print(f"    {feed.url}" + (f"  every {feed.interval // 60} min" if feed.interval else ""))
    return 0


def cmd_sources_add(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.feeds import DiscoveryError, add_source

    config = load_config(args.config)
    try:
        path = add_source(args.url, config, name=args.name)
    except (DiscoveryError, FileExistsError) as exc:
        print(f"newswatch: cannot add {args.url}: {exc}", file=sys.stderr)
        return 1
    if args.only_new:
        _mark_only_new(path)
    print(f"wrote {path}")
    return 0


def _mark_only_new(path: Path) -> None:
    """`--only-new`: the source's first poll marks all it finds as backlog (rss2email's `add --only-new`).
    First in the file, where a top-level key must be in TOML."""
    text = path.read_text(encoding="utf-8")
    path.write_text("# --only-new: what the first poll finds is backlog, stored and searchable, never in a digest\n"
                    f"only_new = true\n{text}", encoding="utf-8")


def cmd_sources_import(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.feeds import OpmlError, import_opml

    config = load_config(args.config)
    try:
        imported = import_opml(Path(args.file), config.sources_dir)
    except (OpmlError, OSError) as exc:
        print(f"newswatch: cannot import {args.file}: {exc}", file=sys.stderr)
        return 1
    for path in imported.written:
        if args.only_new:
            _mark_only_new(path)
        print(f"wrote {path}")
    print(imported.summary())
    return 0


def cmd_sources_export(args: argparse.Namespace) -> int:
    from pipeline.feeds import export_opml

    ctx = _context(args)
    print(export_opml(list(ctx.sources.values())))
    return 0


def _open_target(target: str):
    """A store at a libpq URL, or a SQLite file at a path (`sqlite:///path` or the path itself)."""
    from pipeline.store import SqliteStore
    from pipeline.store.postgres import PostgresStore

    if target.startswith(("postgresql://", "postgres://")):
        return PostgresStore(target)
    path = Path(target.removeprefix("sqlite://")).expanduser()
    return SqliteStore(path)


def cmd_db_copy(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipeline.store.copy import copy_store, total_rows

    _, source = _stored(args)
    with source, _open_target(args.to) as target:
        if target.backend == source.backend and target.location == source.location:
            print("newswatch: the source and the destination are the same store", file=sys.stderr)
            return 2
        print(f"copying {source.location} -> {target.location}")
        show = sys.stderr.isatty() and not args.quiet
        with tqdm(total=total_rows(source), unit="row", disable=not show) as bar:
            counts = copy_store(source, target, batch=args.batch, progress=bar.update)
    for count in counts:
        mark = "ok" if count.ok else "MISMATCH"
        print(f"{count.table:<12} {count.source:>9,} -> {count.target:>9,}  {mark}")
    if not all(c.ok for c in counts):
        print("newswatch: row counts differ: the destination held other rows before the copy", file=sys.stderr)
        return 1
    return 0


def _pg_advice(config, verb: str, path: str) -> str:
    from pipeline.store.postgres import _without_password

    url = _without_password(config.storage.url)
    if verb == "backup":
        return (f"newswatch: the store is PostgreSQL; back it up with pg_dump, which copies a live database "
                f"consistently: pg_dump --format=custom --file {path} '{url}'")
    return (f"newswatch: the store is PostgreSQL; restore a pg_dump backup with pg_restore (stop the service "
            f"first): pg_restore --clean --if-exists --dbname '{url}' {path}")


def cmd_db_backup(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.store.backup import backup_sqlite

    if (config := load_config(args.config)).backend == "postgresql":
        print(_pg_advice(config, "backup", args.path), file=sys.stderr)
        return 1
    _stored(args)[1].close()  # no database yet is said as for every reading command
    target = Path(args.path).expanduser()
    try:
        size = backup_sqlite(config.db_path, target)
    except FileExistsError as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {config.db_path} -> {target} ({size:,} bytes); restore with "
          f"`{command_name()} db restore {_shown_path(target)} --config {args.config}`")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from datetime import UTC

    from pipeline.config import load_config
    from pipeline.service import AlreadyRunning
    from pipeline.service.lock import InstanceLock
    from pipeline.store import StoreUnavailable
    from pipeline.store.backup import backup_sqlite, check_backup, restore_sqlite

    config = load_config(args.config)
    if config.backend == "postgresql":
        print(_pg_advice(config, "restore", args.path), file=sys.stderr)
        return 1
    backup, database = Path(args.path).expanduser(), config.db_path
    try:
        check_backup(backup)
        with InstanceLock(database):  # never under a running service
            kept = None
            if database.exists():
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                kept = database.with_name(f"{database.name}.before-restore-{stamp}")
                backup_sqlite(database, kept)
            restore_sqlite(backup, database)
    except AlreadyRunning as exc:
        print(f"newswatch: stop the service first: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"newswatch: cannot restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {database} from {backup}" + (f"; the store it replaced is kept in {kept}" if kept else ""))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo is the ordinary `poll` and `digest` commands against sample outlets on 127.0.0.1.
    from pipeline.demo import DemoSite, prepare_output, write_demo_config

    if (Path(args.output) / "newswatch.db").exists() and not (args.fresh or args.storage):
        # The reader's feedback and stars live in that store: replacing it is asked for, never a side effect.
        command, config = command_name(), _shown_path(Path(args.output) / "config.toml")
        print(f"demo: kept the store of the previous demo in {_shown_path(args.output)} (and the feedback in it); "
              f"to replace it: `make demo FRESH=1` or `{command} demo --fresh`")
        print(f"demo: see it with `{command} status --config {config}` or `{command} serve --config {config}`")
        return 0
    output = prepare_output(Path(args.output))
    with DemoSite() as site:
        print(f"demo: sample outlets served on {site.base}")
        config = str(write_demo_config(output, site.base, storage_url=args.storage))
        code = main(["poll", "--config", config, "--quiet"])
        if not code:
            code = main(["digest", "--config", config])
    if code:
        return code
    command, config = command_name(), _shown_path(config)
    print(f"\ndemo: digest written under {_shown_path(output / 'digest')}")
    print(f"demo: see the feeds' health with `{command} status --config {config}`")
    print(f"demo: read it in the browser with `{command} serve --config {config}` (http://127.0.0.1:8080/)")
    if command.endswith("/newswatch"):
        activate = command.removesuffix("newswatch") + "activate"
        print(f"demo: to type `newswatch` alone, put it on your PATH: `pipx install .` in the source folder, "
              f"or `. {activate}` for this shell")
    return 0


def _port_taken(host: str, port: int) -> str | None:
    """Why (host, port) cannot be listened on, or None: checked before anything says it is serving."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve {host}: {exc.strerror}"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from pipeline.web import serve
    from pipeline.web.app import password_for

    _stored(args)[1].close()  # the reading room reads what the service stored: no empty database
    ctx = _context(args)
    host, port = args.host or ctx.config.web.host, args.port or ctx.config.web.port
    password_for(ctx, host)  # a configuration error comes first, whatever the port
    if problem := _port_taken(host, port):
        print(f"newswatch: cannot serve on {host}:{port}: {problem} (choose another with --port)", file=sys.stderr)
        return 2
    try:
        serve(ctx, host=host, port=port)
    except SystemExit as exc:  # uvicorn exits 3 when the port was taken between our check and its bind
        if exc.code in (0, None):
            return 0
        print(f"newswatch: cannot serve on {host}:{port} (see the line above)", file=sys.stderr)
        return 2
    return 0


def _feedback_rows(args: argparse.Namespace) -> list[dict]:
    """Feedback with, for each item, the rules that fire on it now (the rules may have changed since)."""
    ctx = _context(args)
    _, store = _stored(args)
    with store:
        rows = store.feedback()
    for row in rows:
        explanation = ctx.tagger.explain(row["title"] or "", row["text"] or "", row["language"])
        topic = next((t for t in explanation["topics"] if t["topic"] == row["topic"]), None)
        row["rules"] = [r["rule"] for r in topic["rules"] if r["met_in"]] if topic else []
        row["decision"] = topic["decision"] if topic else "unknown topic"
        del row["text"]
    return rows


def cmd_feedback_list(args: argparse.Namespace) -> int:
    rows = _feedback_rows(args)
    for r in rows:
        said = {"not_relevant": "not relevant", "relevant": "relevant (missed)", None: "-"}[r["verdict"]]
        print(f"{r['entry_id']:>6}  {said:<17}{' *' if r['starred'] else '  '}  now {r['decision']}"
              f" ({', '.join(r['rules']) or 'no rule fired'})  {r['source']}: {r['title']}")
    if not rows:
        print(f"no feedback yet: mark items in `{command_name()} serve --config {args.config}`")
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    for row in _feedback_rows(args):
        print(json.dumps(row, ensure_ascii=False, default=_json_default))
    return 0


def cmd_topics_tune(args: argparse.Namespace) -> int:
    from pipeline.topics.tune import evaluation_items, format_report, rewrite_topic, tune, verdict_items

    ctx = _context(args)
    topic = next((t for t in ctx.tagger.topics if t.id == args.topic), None)
    if topic is None:
        known = ", ".join(t.id for t in ctx.tagger.topics)
        print(f"newswatch: no topic {args.topic!r} in the configuration (topics: {known})", file=sys.stderr)
        return 2
    _, store = _stored(args)
    with store:
        verdicts = verdict_items(store.feedback(), topic.id)
    items = verdicts + evaluation_items(Path(args.evaluation), topic.id)
    if len({i["label"] for i in items}) < 2:
        print(f"newswatch: nothing to tune {topic.id} on: it needs items judged relevant and not relevant "
              f"(reader's verdicts: {len(verdicts)})", file=sys.stderr)
        return 2
    report = tune(ctx.tagger, topic, items, folds=args.folds)
    print(format_report(report))
    if args.write is None:
        print("nothing written: add --write to write these rules to a new topic file")
        return 0
    source = Path(topic.path)
    target = Path(args.write) if args.write else source.with_name(f"{source.stem}.tuned.toml")
    if target.exists() and target.resolve() == source.resolve():
        print(f"newswatch: {target} is the topic file in use; --write writes a new file", file=sys.stderr)
        return 2
    target.write_text(rewrite_topic(source.read_text(encoding="utf-8"), report), encoding="utf-8")
    print(f"wrote {target}: list it under [topics] files in the configuration instead of {source}, "
          f"then `{command_name()} retag`")
    return 0


# -- parser ---------------------------------------------------------------------------------------

def _within(kind: type, low: float, high: float) -> Callable[[str], float]:
    """An argparse type for a number with bounds: `--tick 1e300` or `--port 99999` is a usage error
    at once, not a hang or a crash later."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not low <= value <= high:  # also false for nan
            raise argparse.ArgumentTypeError(f"expected a number from {low:g} to {high:g}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


# One example per command, shown under its --help (keyed by the function's name without "cmd_").
EXAMPLES = {
    "run": "newswatch run --config /etc/newswatch/config.toml --metrics-port 9108",
    "poll": "newswatch poll --config demo-output/config.toml",
    "digest": "newswatch digest --send",
    "status": "newswatch status --json | jq .feeds_by_health",
    "health": "newswatch health --max-poll-age 60 || echo 'newswatch needs a look'",
    "reprocess": "newswatch reprocess --source Xinhua",
    "vacuum": "newswatch vacuum --config demo-output/config.toml",
    "classify": "echo '{\"id\": 1, \"text\": \"Austin called Dong Jun\"}' | newswatch classify -",
    "explain": "newswatch explain 42",
    "retag": "newswatch retag --config demo-output/config.toml",
    "extract": "newswatch extract --source \"The Diplomat\" https://thediplomat.com/2026/03/talks/",
    "search": "newswatch search '\"military talks\" NOT trade' --limit 5",
    "demo": "newswatch demo --output demo-output --fresh",
    "db_copy": "newswatch db copy --to postgresql://newswatch@db.internal/newswatch",
    "db_backup": "newswatch db backup backups/newswatch-2026-03-01.db",
    "db_restore": "newswatch db restore backups/newswatch-2026-03-01.db",
    "serve": "newswatch serve --config demo-output/config.toml --port 8081",
    "feedback_list": "newswatch feedback list --config demo-output/config.toml",
    "feedback_export": "newswatch feedback export > feedback.jsonl",
    "topics_tune": "newswatch topics tune us-china-milcomm --write topics/us-china-milcomm.toml",
    "sources_list": "newswatch sources list",
    "channels_test": "NEWSWATCH_DESK_URL=json://127.0.0.1:9000/hook newswatch channels test desk",
    "channels_list": "newswatch channels list",
    "sources_add": "newswatch sources add https://thediplomat.com/",
    "sources_import": "newswatch sources import-opml subscriptions.opml",
    "sources_export": "newswatch sources export-opml > sources.opml",
}


def build_parser() -> argparse.ArgumentParser:
    def options(p: argparse.ArgumentParser, default) -> None:
        # Accepted before the command and after it; a command's own default must not undo the value
        # given before it, hence SUPPRESS there.
        p.add_argument("--config", default=default(None),
                       help=f"configuration file (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG})")
        p.add_argument("--log-format", choices=["text", "json"], default=default(None),
                       help="log line format (default: from config)")
        p.add_argument("-v", "--verbose", action="store_true", default=default(False), help="log debug messages")

    common = argparse.ArgumentParser(add_help=False)
    options(common, lambda _: argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Monitor news sources and build a daily digest of items on the configured topics.",
        epilog="examples:\n  newswatch demo\n  newswatch --config demo-output/config.toml status\n"
               f"  {CONFIG_ENV}=demo-output/config.toml newswatch health",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options(parser, lambda value: value)
    parser.add_argument("--json", action="store_true", help="machine-readable output, for commands that have it")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help: str, parent: argparse._SubParsersAction = sub):
        example = EXAMPLES.get(func.__name__.removeprefix("cmd_"))
        p = parent.add_parser(name, parents=[common], help=help, description=help,
                              epilog=f"example:\n  {example}" if example else None,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = command("run", cmd_run, "run the service: poll, process and send digests on schedule")
    p.add_argument("--tick", type=_within(float, 0.01, 3600), default=60.0,
                   help="seconds between scheduling ticks (default: 60)")
    p.add_argument("--metrics-port", type=_within(int, 1, 65535),
                   help="serve Prometheus metrics on 127.0.0.1:PORT/metrics")
    p.add_argument("--role", choices=["all", "poll", "process", "digest"], default="all",
                   help="with PostgreSQL, split duties between processes: poll feeds, process entries, "
                        "or send digests (default: all)")
    p = command("poll", cmd_poll, "poll the due feeds and process new entries once, now")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = command("digest", cmd_digest, "build and deliver the digest for a day (default: today so far)")
    p.add_argument("--date", help='the day in the digest\'s time zone: today, yesterday, "N days ago" or YYYY-MM-DD; '
                                  "the digest holds what was published that day, and late reports of earlier days")
    sending = p.add_mutually_exclusive_group()
    sending.add_argument("--send", action="store_true",
                         help="send it now by email and on the digest channels, even before the day is over")
    sending.add_argument("--resend", action="store_true", help="send a day's email again: only a day already sent")
    p.add_argument("--ack", metavar="DAY", help="accept that DAY's undelivered digests stay undelivered: "
                                                "health stops reporting them")
    p = command("status", cmd_status, "feed health, queue depth, last poll and digest, recent errors")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    p = command("health", cmd_health, "exit 1, with the reasons, when the service is not doing its work")
    p.add_argument("--max-poll-age", type=_within(float, 0.01, 43200),
                   help="minutes (default: [health] max_poll_age_minutes, 120)")
    p = command("reprocess", cmd_reprocess, "re-extract and re-tag stored pages (after rules change)")
    p.add_argument("--source", help="only this source")
    command("vacuum", cmd_vacuum, "drop stored pages past retention and compact the database")
    p = command("classify", cmd_classify, "tag JSON lines {id, title?, text} from FILE or - (stdin)")
    p.add_argument("file", metavar="FILE|-")
    p = command("explain", cmd_explain, "show why an item was or was not tagged")
    p.add_argument("target", metavar="ID|URL|FILE")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    command("retag", cmd_retag, "re-apply the topic rules to every stored item")
    p = command("extract", cmd_extract, "extract an article from a URL or an HTML file and print it as JSON")
    p.add_argument("target", metavar="URL|FILE")
    p.add_argument("--source", help="apply this source's extraction rules")
    p = command("search", cmd_search, "full-text search over stored titles and text")
    p.add_argument("query")
    p.add_argument("--limit", type=_within(int, 1, 10_000), default=20)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    p = command("demo", cmd_demo, "run the whole flow offline against bundled sample sources")
    p.add_argument("--output", default="demo-output", help="folder for the demo's database and digest")
    p.add_argument("--fresh", action="store_true",
                   help="replace the store of an earlier demo in that folder (default: keep it and say so)")
    p.add_argument("--storage", metavar="URL", default="",
                   help="run the demo against this PostgreSQL database (default: a SQLite file in the folder)")

    db = sub.add_parser("db", help="back up, restore, or move the store between backends")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    p = command("copy", cmd_db_copy, "copy the configured store into another (SQLite <-> PostgreSQL); safe to re-run",
                db_sub)
    p.add_argument("--to", required=True, metavar="URL|PATH", help="postgresql://... URL or a SQLite file path")
    p.add_argument("--batch", type=_within(int, 1, 100_000), default=1000,
                   help="rows per transaction (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = command("backup", cmd_db_backup, "copy the SQLite store into a new file, safely while the service runs",
                db_sub)
    p.add_argument("path", metavar="PATH", help="the new file")
    p = command("restore", cmd_db_restore, "replace the SQLite store with a backup; the service must be stopped",
                db_sub)
    p.add_argument("path", metavar="PATH", help="a file written by `db backup`")

    p = command("serve", cmd_serve, "the reading room: today's stories, days, search, items, sources, feedback")
    p.add_argument("--host", help="address to bind (default: [web] host, 127.0.0.1)")
    p.add_argument("--port", type=_within(int, 1, 65535), help="port (default: [web] port, 8080)")
    feedback = sub.add_parser("feedback", help="the reader's feedback from the reading room")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True, metavar="COMMAND")
    command("list", cmd_feedback_list, "feedback beside the rules that fire on each item now", feedback_sub)
    command("export", cmd_feedback_export, "feedback as JSON lines, for bench/tagging.py --feedback", feedback_sub)

    topics = sub.add_parser("topics", help="fit a topic's rules to the reader's verdicts")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True, metavar="COMMAND")
    p = command("tune", cmd_topics_tune, "fit a topic's rule weights and thresholds to the reader's verdicts and "
                "the tagging evaluation set; print precision and recall before and after (cross-validated)",
                topics_sub)
    p.add_argument("topic", metavar="TOPIC", help="a topic id from the configuration")
    p.add_argument("--write", nargs="?", const="", metavar="FILE",
                   help="write the tuned rules to a new topic file (default: TOPIC.tuned.toml beside the topic's file)")
    p.add_argument("--evaluation", default=str(EVALUATION_SET), metavar="DIR",
                   help="the tagging evaluation set (dev.jsonl, heldout.jsonl) (default: %(default)s)")
    p.add_argument("--folds", type=_within(int, 2, 20), default=5, help="cross-validation folds (default: 5)")

    sources = sub.add_parser("sources", help="list, add, import or export sources")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True, metavar="COMMAND")
    command("list", cmd_sources_list, "list the configured sources and their feeds", sources_sub)
    p = command("add", cmd_sources_add, "discover a site's feed from its homepage and write a source file",
                sources_sub)
    p.add_argument("url")
    p.add_argument("--name", help="the source's name (default: the site's title)")
    p.add_argument("--only-new", action="store_true", help=_ONLY_NEW_HELP)
    p = command("import-opml", cmd_sources_import, "write a source file per outlet in an OPML file", sources_sub)
    p.add_argument("file")
    p.add_argument("--only-new", action="store_true", help=_ONLY_NEW_HELP)
    command("export-opml", cmd_sources_export, "print the sources as OPML", sources_sub)
    channels = sub.add_parser("channels", help="the [[channels]] alerts and digests go to (Apprise)")
    channels_sub = channels.add_subparsers(dest="channels_command", required=True, metavar="COMMAND")
    p = command("test", cmd_channels_test, "send a test message on each channel and print each answer",
                channels_sub)
    p.add_argument("names", nargs="*", metavar="NAME", help="only these channels (default: all)")
    command("list", cmd_channels_list, "the channels with their last delivery and failure", channels_sub)
    return parser


_ONLY_NEW_HELP = "the first poll's items are backlog: stored and searchable, never in a digest"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before the imports below: `--help` needs none of them
    args.config = args.config or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    from pipeline.logs import setup_logging
    from pipeline.store import StoreUnavailable

    level, fmt = ("DEBUG" if args.verbose else "INFO"), args.log_format or "text"
    try:
        from pipeline.config import load_config

        if args.command not in ("demo",) and Path(args.config).exists():
            config = load_config(args.config)
            if config.channels:
                from pipeline.alerts import check_channels

                check_channels(config)  # a URL Apprise cannot use is a start-up error, like a missing one
            level = "DEBUG" if args.verbose else config.logging.level
            fmt = args.log_format or config.logging.format
        setup_logging(level, fmt)
        return args.func(args)
    except ConfigError as exc:
        for error in all_errors(exc):
            print(f"newswatch: configuration error: {error}", file=sys.stderr)
        return 2
    except NoDatabase as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        if args.command == "run":
            # the service's output went nowhere: a supervisor must see it did not run
            with contextlib.suppress(OSError):
                print("newswatch: cannot run: its output pipe is closed (broken pipe)", file=sys.stderr)
            return 1
        # `newswatch status | head`: the reader left; say nothing more
        with contextlib.suppress(OSError):
            sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
