"""The packages form one stack, read top to bottom: a module imports only from its own layer or below,
whether the import is at the top of the file or inside a function (a hidden import is still a
dependency). The pure strategy core imports nothing of Django."""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Top to bottom. Each entry: a name for the layer and the modules in it (fnmatch patterns).
STACK: list[tuple[str, list[str]]] = [
    ("entry points: command line, web pages, REST API, tools", [
        "rebook.__main__", "rebook.cli", "rebook.cli.*", "rebook.web", "rebook.web.*", "rebook.urls", "rebook.wsgi", "rebook.api.api",
        "rebook.api.base", "rebook.api.routes*", "rebook.api.content", "rebook.api.idempotency",
        "rebook.calendars.views", "rebook.outbox.views", "rebook.prospects.views", "rebook.tour", "rebook.demo", "rebook.scale", "rebook.backup",
    ]),
    ("the worker", ["rebook.outbox.worker", "rebook.webhooks.delivery"]),
    ("queued jobs", ["rebook.imports"]),
    ("the cancellation forecast (trains on, and reads, the history)", ["rebook.forecast.services"]),
    ("reading the seller's mailbox (replies become contacts, cancellations and suggestions)", ["rebook.mailbox.services"]),
    ("importers", ["rebook.calendars.services", "rebook.calendars.connections", "rebook.contacts.services", "rebook.forecast.history",
                   "rebook.cards.services"]),
    ("what a prospect does through a link (as the seller would have typed it)", ["rebook.prospects.services"]),
    ("seller services (a policy change re-judges every lead)", ["rebook.sellers.services"]),
    ("lead services (book, cancel, judge; they plan the outbox and emit webhooks)", ["rebook.leads.services"]),
    ("outbox, webhook and token services", [
        "rebook.outbox.services", "rebook.outbox.compose", "rebook.outbox.selectors", "rebook.webhooks.services",
        "rebook.api.services", "rebook.calendars.feed",
    ]),
    ("reading the lead's history, and the links to a meeting", ["rebook.leads.selectors", "rebook.leads.reports",
                                                             "rebook.prospects.links", "rebook.calendars.busy"]),
    ("mail and invitations", ["rebook.outbox.mail", "rebook.outbox.templating", "rebook.calendars.invitations"]),
    ("models of what hangs off a lead", ["rebook.outbox.models", "rebook.webhooks.models", "rebook.api.models",
                                         "rebook.prospects.models", "rebook.mailbox.models",
                                         "rebook.forecast.models", "rebook.cards.models", "rebook.calendars.models"]),
    ("lead models", ["rebook.leads.models"]),
    ("seller models", ["rebook.sellers.models"]),
    ("plumbing", [
        "rebook.claims", "rebook.lengths", "rebook.settings", "rebook.*.apps", "rebook.webhooks.targets",
        "rebook.calendars.events", "rebook.calendars.reading", "rebook.calendars.plain", "rebook.contacts.reading",
        "rebook.filekind",
        "rebook.stopping", "rebook.windows", "rebook.cards.ocr", "rebook.cards.engine", "rebook.cards.photo", "rebook.addresses", "rebook.remembered", "rebook.writes", "rebook.reads", "rebook.mailbox.imap", "rebook.mailbox.mails", "rebook.mailbox.secret", "rebook.calendars.remote",
    ]),
    ("the pure core (no Django)", ["rebook.strategy*", "rebook.errors", "rebook.timeparse"]),
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "rebook").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _layer(module: str) -> int:
    for depth, (_, patterns) in enumerate(STACK):
        if any(fnmatch(module, p) for p in patterns):
            return depth
    raise AssertionError(f"{module} is in no layer of the stack; add it where it belongs")


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    def resolve(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rebook"):
            out |= {resolve(f"{node.module}.{alias.name}") for alias in node.names}
        elif isinstance(node, ast.Import):
            out |= {resolve(alias.name) for alias in node.names if alias.name.startswith("rebook")}
    return out - {"", "rebook"}


def test_every_import_goes_down_the_stack():
    modules = _modules()
    upward = []
    for module, path in sorted(modules.items()):
        if module == "rebook":
            continue
        for target in sorted(_imports(path, modules) - {module}):
            if target != "rebook" and _layer(target) < _layer(module):
                upward.append(f"{module} ({STACK[_layer(module)][0]}) imports {target} ({STACK[_layer(target)][0]})")
    assert not upward, "\n".join(upward)


def test_the_strategy_core_imports_no_django():
    for path in (SRC / "rebook" / "strategy").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(name.split(".")[0] == "django" for name in names), path
