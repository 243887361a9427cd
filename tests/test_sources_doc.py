"""docs/sources.md defines every source key the code cites, and the code cites nothing outside
the repository.

How a key is found in ``nestprobe/`` and ``csrc/`` (the extraction rule):

1. Namespaced keys, anywhere in a file's text (code, comments, docstrings): capitals or digits,
   then one or more ``-`` parts of capitals/digits or a ``0x`` number: ``L-KVMPARA``, ``TLFS-FD``,
   ``LKML-0x40000010``. Hyphenated words that are not keys (``AMD-V``, ``UTF-8``) are listed in
   NOT_KEYS.
2. Table citations: every record reachable from a module-level name of ``nestprobe`` that has a
   str ``source`` field. With the constants of ``nestprobe.verdicts.sources`` taken out (the
   verdict tables cite full references), the text is a ``;``-separated list of citations and each
   one begins with a key (its first word, key-shaped) or with the ``[D]`` marker. This is where bare
   keys (``SD``, ``VMA``, ``PVM``) are found.
3. ``Source keys:`` lists in docstrings: from ``Source keys:`` to the end of the paragraph, with
   parenthesised text removed, every item (separated by ``,``, ``;`` or `` / ``) begins with a key.

A key is defined when the "Keys" table of docs/sources.md has a row whose first cell is `KEY`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import nestprobe
from nestprobe.model.record import is_record, iter_items
from nestprobe.verdicts import sources as verdict_sources

ROOT = Path(__file__).resolve().parent.parent
if not (ROOT / "nestprobe").is_dir():  # e.g. the Windows stage tests an installed wheel
    pytest.skip("reads the source tree, which is not beside these tests", allow_module_level=True)
DOC = ROOT / "docs" / "sources.md"
CODE_DIRS = (ROOT / "nestprobe", ROOT / "csrc")
CODE_SUFFIXES = {".py", ".c", ".h", ".json"}

_PART = r"(?:0x[0-9A-Fa-f]+|[A-Z0-9]+)"
#: Rule 1: a namespaced key (not glued to a longer word).
NAMESPACED_KEY = re.compile(rf"(?<![\w-])[A-Z][A-Z0-9]*(?:-{_PART})+(?![\w-])")
#: Rules 2 and 3: what a key looks like when it opens a citation (bare or namespaced).
KEY_SHAPE = re.compile(rf"[A-Z][A-Z0-9]*(?:-{_PART})*")
#: Hyphenated capitals in the code that are words, not keys.
NOT_KEYS = frozenset({
    "AMD-V",  # AMD's virtualization extension
    "UTF-8", "UTF-16", "UTF-16LE", "UTF-16BE",
    "SEV-SNP",  # AMD's confidential-VM feature
    "DS-CPL",  # the CPUID feature (CPL-qualified debug store)
    "CRI-O",  # the container runtime (its key is CRIO)
    "EAX-EBX-ECX-EDX",  # the AIDA64 register layout
    "A-Z",  # a regular-expression range
})
#: The markers docs/sources.md defines; "[U on X]" qualifies U to one product.
MARKER = re.compile(r"\[([^\]]*)\]")
MARKER_OK = re.compile(r"(S|U|D)( on [^\]]+)?")
DERIVED = "[D]"

#: Pointers to files outside the repository: the project's reference notes and mounts.
OUTSIDE = tuple(re.compile(p) for p in (
    r"docs/reference",
    r"§",
    r"/work/",
    r"\.\./shared",
    r"shared/(?:reference|corpus)",
    r"(?:hypervisor-cpuid|performance-anchors|peer-detectors|support-matrix|style-anchors)",
    r"\banchors [AB]\.\d",
    r"\b[AB]\.\d #\d",
    r"corpus README",
))


# ---- the extraction rule, as functions ----------------------------------------------------------


def namespaced_keys(text: str) -> set[str]:
    """Rule 1."""
    return {m.group(0) for m in NAMESPACED_KEY.finditer(text)} - NOT_KEYS


def citation_keys(source: str, constants: Iterable[str] = ()) -> tuple[set[str], list[str]]:
    """Rule 2: the keys opening each citation of ``source``, and the citations that open with
    neither a key nor ``[D]``."""
    for constant in sorted(constants, key=len, reverse=True):
        source = source.replace(constant, "")
    keys: set[str] = set()
    unkeyed: list[str] = []
    for part in (p.strip() for p in source.split(";")):
        if not part or part.startswith(DERIVED):
            continue
        first = part.split()[0]
        if KEY_SHAPE.fullmatch(first):
            keys.add(first)
        else:
            unkeyed.append(part)
    return keys, unkeyed


def _without_parentheses(text: str) -> str:
    while True:
        shorter = re.sub(r"\([^()]*\)", "", text)
        if shorter == text:
            return text
        text = shorter


def docstring_keys(docstring: str) -> tuple[set[str], list[str]]:
    """Rule 3: the keys of a ``Source keys:`` paragraph, and the items that open with no key."""
    keys: set[str] = set()
    unkeyed: list[str] = []
    for match in re.finditer(r"Source keys:(.*?)(?:\n\s*\n|\Z)", docstring, re.DOTALL):
        for item in re.split(r"\s*[,;]\s*|\s+/\s+", _without_parentheses(match.group(1))):
            words = item.split()
            if not words:
                continue
            first = words[0].rstrip(".:")  # the list's last item ends the sentence
            if KEY_SHAPE.fullmatch(first):
                keys.add(first)
            else:
                unkeyed.append(item.strip())
    return keys, unkeyed


def section(doc: str, title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading."""
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    assert match, f"docs/sources.md has no '## {title}' section"
    return match.group(1)


def defined_keys(doc: str) -> set[str]:
    """The first cells of the "## Keys" table."""
    return set(re.findall(r"^\| `([^`]+)` \|", section(doc, "Keys"), re.MULTILINE))


def outside_pointers(text: str) -> list[str]:
    """Lines of ``text`` that point at files outside the repository."""
    return [line.strip() for line in text.splitlines()
            if any(p.search(line) for p in OUTSIDE)]


# ---- what the rule is applied to ----------------------------------------------------------------


def code_files() -> list[Path]:
    files = [p for d in CODE_DIRS for p in sorted(d.rglob("*"))
             if p.is_file() and (p.suffix in CODE_SUFFIXES or p.name == "Makefile")
             and "__pycache__" not in p.parts]
    assert len(files) > 50, files  # the walk found the code, not an empty tree
    return files


def _docstrings(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc:
                yield doc


def _records(value: object, seen: set[int]) -> Iterator[object]:
    if id(value) in seen or isinstance(value, str | bytes | int | float | type):
        return
    seen.add(id(value))
    if is_record(value):
        yield value
        for _, item in iter_items(value):  # type: ignore[arg-type]
            yield from _records(item, seen)
    elif isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from _records(item, seen)
    elif isinstance(value, dict) or type(value).__name__ == "FrozenMap":
        for item in value.values():  # type: ignore[attr-defined]
            yield from _records(item, seen)


def table_sources() -> list[tuple[str, str]]:
    """(type name, source) of every record with a str ``source`` reachable from a module-level
    name of any nestprobe module (``__main__`` excluded: importing it runs the CLI)."""
    seen: set[int] = set()
    found: list[tuple[str, str]] = []
    for info in pkgutil.walk_packages(nestprobe.__path__, "nestprobe."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in list(vars(module).values()):
            for record in _records(value, seen):
                source = getattr(record, "source", None)
                if isinstance(source, str):
                    found.append((type(record).__name__, source))
    return found


VERDICT_CONSTANTS = {name: value for name, value in vars(verdict_sources).items()
                     if name.isupper() and isinstance(value, str)}


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sources() -> list[tuple[str, str]]:
    found = table_sources()
    kinds = {kind for kind, _ in found}
    assert len(found) > 150
    assert {"Signature", "LeafSpec", "Band", "Rule"} <= kinds, kinds
    return found


# ---- the checks ---------------------------------------------------------------------------------


def test_every_key_the_code_cites_is_defined(doc: str, sources: list[tuple[str, str]]) -> None:
    defined = defined_keys(doc)
    cited: dict[str, str] = {}
    for path in code_files():
        for key in namespaced_keys(path.read_text(encoding="utf-8")):
            cited.setdefault(key, str(path.relative_to(ROOT)))
        if path.suffix == ".py":
            for docstring in _docstrings(path):
                for key in docstring_keys(docstring)[0]:
                    cited.setdefault(key, f"{path.relative_to(ROOT)} (Source keys)")
    for kind, source in sources:
        for key in citation_keys(source, VERDICT_CONSTANTS.values())[0]:
            cited.setdefault(key, f"{kind} {source!r}")
    assert len(cited) > 40, cited  # the rule found the keys, so "all defined" says something
    undefined = {key: where for key, where in cited.items() if key not in defined}
    assert not undefined, f"keys not defined in docs/sources.md: {undefined}"


def test_every_table_citation_opens_with_a_key(sources: list[tuple[str, str]]) -> None:
    unkeyed = [(kind, part) for kind, source in sources
               for part in citation_keys(source, VERDICT_CONSTANTS.values())[1]]
    assert not unkeyed, f"citations that open with no key (or [D]): {unkeyed}"


def test_every_source_keys_list_opens_each_item_with_a_key() -> None:
    lists = 0
    unkeyed: list[tuple[str, str]] = []
    for path in code_files():
        if path.suffix != ".py":
            continue
        for docstring in _docstrings(path):
            lists += docstring.count("Source keys:")
            unkeyed += [(str(path.relative_to(ROOT)), item)
                        for item in docstring_keys(docstring)[1]]
    assert lists >= 5
    assert not unkeyed, unkeyed


def test_every_defined_key_is_cited_somewhere(doc: str) -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in code_files())
    unused = {key for key in defined_keys(doc)
              if not re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text)}
    assert not unused, f"rows of docs/sources.md no code cites: {unused}"


def test_markers_in_tables_are_the_defined_ones(doc: str,
                                                sources: list[tuple[str, str]]) -> None:
    for marker in ("`[S]`", "`[U]`", "`[D]`"):
        assert marker in section(doc, "Markers")
    bad = [(kind, m.group(0)) for kind, source in sources for m in MARKER.finditer(source)
           if not MARKER_OK.fullmatch(m.group(1))]
    assert not bad, bad


def test_nothing_in_the_code_points_outside_the_repository() -> None:
    found = [f"{path.relative_to(ROOT)}: {line}" for path in code_files()
             for line in outside_pointers(path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


def test_verdict_source_constants_are_listed(doc: str) -> None:
    assert len(VERDICT_CONSTANTS) > 20
    missing = [name for name, value in VERDICT_CONSTANTS.items()
               if f"| `{name}` | {value} |" not in doc]
    assert not missing, missing


# ---- the rule can fail --------------------------------------------------------------------------


def test_each_rule_reports_an_undefined_key(doc: str) -> None:
    defined = defined_keys(doc)
    assert "L-NOSUCH" in namespaced_keys("bit 3 (L-NOSUCH; AMD-V)") - defined
    keys, unkeyed = citation_keys("NOSUCH table 2; SD vm_table; [D] my boundary")
    assert keys - defined == {"NOSUCH"}
    assert not unkeyed
    keys, _ = docstring_keys("Intro.\n\nSource keys: NOSUCH (a/b.c), SD / VW (x, y).\n\nMore.")
    assert keys - defined == {"NOSUCH"}
    assert defined_keys("## Keys\n\n| key |\n|---|\n| `SD` | systemd |\n") == {"SD"}


def test_unkeyed_citations_and_outside_pointers_are_reported() -> None:
    assert citation_keys("systemd virt.c; SD")[1] == ["systemd virt.c"]
    # a constant may hold ";" itself, so constants are taken out before the split
    assert citation_keys(f"{verdict_sources.XEN_NESTED}; VW", VERDICT_CONSTANTS.values()) == (
        {"VW"}, [])
    assert docstring_keys("Source keys: SD (x), systemd virt.c.")[1] == ["systemd virt.c."]
    assert outside_pointers("see hypervisor-cpuid.md §9\nplain line\nrows of /work/shared/x")
    assert not outside_pointers("arch/x86/include/asm/shared/tdx.h (L-TDX)")
