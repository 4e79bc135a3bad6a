"""Only transports may import a chat library; handlers and storage stay platform-free."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT_LIBRARIES = {"telegram", "nio"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_transports_import_chat_libraries() -> None:
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_relative_to(ROOT / "bot" / "transports"):
                continue
            if _imports(path) & CHAT_LIBRARIES:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_handlers_and_storage_do_not_import_transports() -> None:
    offenders = []
    for folder in ("handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if "bot.transports" in source:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_storage_imports_nothing_above_it() -> None:
    offenders = []
    for path in (ROOT / "storage").rglob("*.py"):
        if _imports(path) & {"bot", "handlers"}:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
