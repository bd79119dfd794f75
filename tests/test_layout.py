"""The tree is the architecture: one package per stage, imports flowing one way down the stages."""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
# A stage may import the stages before it, never one after it. This is the reading path's order,
# but for feeds, which sit above extract: an outlet's file carries its extraction rules, and the
# extractor is the one that says what those rules mean.
# alerts follow the digest: a channel receives the digest as it is built and rendered.
# web comes last: the reading room shows what every stage made (digests, explain, feed status).
STAGES = ["fetch", "extract", "feeds", "topics", "store", "digest", "alerts", "service", "web"]
# Modules every stage may use: the dataclasses, errors, configuration, shared rules and lazy names.
BASE = {"models", "errors", "config", "retry", "logs", "patterns", "lazy"}


def unit(module: str) -> str:
    """`pipeline.fetch.client` -> `fetch`; `pipeline.cli` -> `cli`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PIPELINE.rglob("*.py"):
        rel = path.relative_to(PIPELINE.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = module if rel.name == "__init__" else module.rsplit(".", 1)[0]
        here = unit(module) or unit(package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                if target.startswith("pipeline"):
                    targets = [target] if target != "pipeline" else [f"pipeline.{a.name}" for a in node.names]
                    for t in targets:
                        if unit(t) and unit(t) != here:
                            edges.setdefault(here, set()).add(unit(t))
    return edges


def test_top_level_holds_only_what_spans_stages():
    modules = sorted(p.stem for p in PIPELINE.glob("*.py"))
    assert len(modules) <= 12, modules
    for stage in STAGES:
        assert (PIPELINE / stage / "__init__.py").read_text(encoding="utf-8").startswith('"""'), stage
    prefixed = [p.name for p in PIPELINE.rglob("*.py") if p.name.startswith(("topic_", "extract_", "render_"))]
    assert prefixed == []


def test_stages_import_only_the_stages_before_them():
    edges = imports()
    for stage in STAGES:
        allowed = BASE | set(STAGES[: STAGES.index(stage)])
        if stage in ("service", "web"):  # both run the stages from one loaded context
            allowed |= {"context"}
        assert edges.get(stage, set()) <= allowed, (stage, sorted(edges[stage] - allowed))
    for base in BASE:
        assert edges.get(base, set()) <= BASE, (base, sorted(edges[base]))


def test_there_is_no_import_cycle():
    edges = imports()
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join([*path, node])
        if node not in done:
            for nxt in sorted(edges.get(node, ())):
                visit(nxt, (*path, node))
            done.add(node)

    for node in sorted(edges):
        visit(node, ())
