"""contrib/windows: the Intune pair, the ConfigMgr discovery script, the PowerShell module and
the installer steps (cmd and PowerShell).

PowerShell cannot run here (its SDK is on NuGet only, which this machine does not reach;
Debian has no PowerShell; the tree-sitter language pack on PyPI downloads its grammars at
run time). So each script is checked on what decides whether it works:

- the JSON it reads: every script declares the fields it reads (``json: PATH TYPE`` lines
  in its help block); each one must exist with that type in real ``--json`` output of the
  Windows fixtures, corpus dumps and pastes (every scenario; lists non-empty somewhere), and
  every member access in the code on a JSON object must be declared (the field contract);
- the steps it performs: the remediation scripts' action tables name real remediation or
  condition ids, and every Windows step is either performed or refused on purpose;
- its syntax: a PowerShell grammar (tree-sitter-powershell from npm, compiled here and
  loaded with py-tree-sitter: no ERROR or missing node), and a tokenizer of our own
  (comments, the four string kinds with sub-expressions, here-strings, balanced brackets,
  no bash-isms, approved verbs, ASCII);
- the batch file runs under wine's cmd.exe, each exit-code branch against a stand-in
  nestprobe.exe (.ci/portable-stage.sh runs it against the real one too).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, REPO
from wine import (
    WINE,
    launched,
    mingw_build,
    module_prefix,
    wine_env,
)

from nestprobe.cli import main
from nestprobe.verdicts.conditions import CONDITIONS
from nestprobe.verdicts.readiness import SETTLE, STEP_NEEDS
from nestprobe.verdicts.remediation import REMEDIATIONS

CONTRIB = REPO / "contrib" / "windows"
SCRIPTS = sorted([*CONTRIB.rglob("*.ps1"), *CONTRIB.rglob("*.psm1")])
POWERSHELL = sorted([*SCRIPTS, *CONTRIB.rglob("*.psd1")])
FIXTURES = REPO / "tests" / "fixtures" / "windows"
#: Variables that hold a part of the JSON, by the convention the scripts follow.
ROOTS = {
    "report": "", "verdict": "verdicts.*", "ready": "verdicts.*.readiness",
    "step": "verdicts.*.readiness.steps[]", "item": "verdicts.*.readiness.pending[]",
    "fix": "verdicts.*.remediation[]",
}
TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str, "int": int, "bool": bool, "list": list, "dict": dict,
}


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


# ---- the JSON the scripts consume ----------------------------------------------------------


def _inputs() -> list[Path]:
    paths = sorted(FIXTURES.glob("*.dump"))
    for sub, pattern in (("dumps", "*"), ("windows", "*.txt")):
        paths += sorted((CORPUS / sub).glob(pattern))[:12]  # a sample beside the fixtures
    return paths


@pytest.fixture(scope="module")
def reports() -> list[dict[str, Any]]:
    """Real --json documents, as the scripts get them (check --ready --json = report JSON)."""
    out: list[dict[str, Any]] = []
    for path in _inputs():
        import io

        buffer = io.StringIO()
        main(["check", "wsl2", "--ready", "--json", "--from", str(path)], out=buffer)
        out.append(json.loads(buffer.getvalue()))
    assert len(out) >= 5
    return out


def declared(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^\s*json: (\S+) (\S+)$", path.read_text(encoding="utf-8"),
                           re.MULTILINE))


def values(document: Any, path: str) -> Iterator[Any]:
    """Every value at ``path`` (``*``: each key; ``name[]``: each element of that list)."""
    if not path:
        yield document
        return
    head, _, rest = path.partition(".")
    if head == "*":
        for value in document.values():
            yield from values(value, rest)
        return
    each = head.endswith("[]")
    key = head.removesuffix("[]")
    assert isinstance(document, dict), path
    assert key in document, f"no {key!r} in {sorted(document)}"
    value = document[key]
    if each:
        assert isinstance(value, list), key
        for element in value:
            yield from values(element, rest)
    else:
        yield from values(value, rest)


@pytest.mark.parametrize("script", SCRIPTS, ids=rel)
def test_declared_fields_exist_with_their_types(script: Path,
                                                reports: list[dict[str, Any]]) -> None:
    fields = declared(script)
    assert fields, f"{rel(script)} declares no json: fields"
    for path, kind in fields.items():
        wanted = TYPES[kind.removesuffix("?")]
        found = [v for report in reports for v in values(report, path)]
        assert found, f"{path}: never present in the inputs (a list always empty?)"
        for value in found:
            if value is None and kind.endswith("?"):
                continue
            assert isinstance(value, wanted), (path, value)
            assert wanted is not int or not isinstance(value, bool), (path, value)


def code_of(text: str) -> str:
    """The script without its comments (strings stay: "$($x.y)" runs code)."""
    text = re.sub(r"<#.*?#>", "", text, flags=re.DOTALL)
    return re.sub(r"(?m)(^|\s)#[^\n]*", r"\1", text)


_ACCESS = re.compile(r"\$(" + "|".join(ROOTS) + r")((?:\.(?:\$\w+|\w+))+)")
_MEMBERS = {"Count", "Length", "ContainsKey", "Exception", "Message", "Source"}


def accessed(text: str) -> set[str]:
    """JSON paths the code reads through the conventional variables."""
    paths: set[str] = set()
    for var, chain in _ACCESS.findall(code_of(text)):
        parts = chain.split(".")[1:]
        keep: list[str] = []
        for part in parts:
            if part in _MEMBERS:
                break
            keep.append("*" if part.startswith("$") else part.lower())
        if keep:
            paths.add(".".join(p for p in (ROOTS[var], *keep) if p))
    return paths


@pytest.mark.parametrize("script", SCRIPTS, ids=rel)
def test_code_reads_only_declared_fields(script: Path) -> None:
    fields = declared(script)
    for path in accessed(script.read_text(encoding="utf-8")):
        assert any(f == path or f.startswith((path + ".", path + "[]"))
                   for f in fields), f"{rel(script)} reads {path}, not declared"


@pytest.mark.parametrize("script", SCRIPTS, ids=rel)
def test_variables_follow_the_convention(script: Path) -> None:
    """``foreach ($step in $ready.steps)``, ``$ready = $verdict.readiness``: each binding of
    a conventional variable is to the part of the JSON its name stands for."""
    code = code_of(script.read_text(encoding="utf-8"))
    names = "|".join(ROOTS)
    bindings = [*re.findall(rf"foreach \(\$({names}) in \$({names})((?:\.\w+)+)\)", code),
                *re.findall(rf"\$({names}) = \$({names})((?:\.(?:\$\w+|\w+))+)", code)]
    for target, source, chain in bindings:
        parts = ["*" if p.startswith("$") else p for p in chain.split(".")[1:]]
        path = ".".join(p for p in (ROOTS[source], *parts) if p)
        assert ROOTS[target] in (path, path + "[]"), (rel(script), target, source, chain)


def test_scripts_read_the_readiness_of_the_contract() -> None:
    """The states and codes the scripts branch on are the contract's."""
    from nestprobe.model.contract import READINESS_EXIT
    from nestprobe.verdicts.readiness import READINESS_STATES

    for script in SCRIPTS:
        text = code_of(script.read_text(encoding="utf-8"))
        for state in re.findall(r"'(ready|after-steps|needs-confirmation|not-supported)'", text):
            assert state in READINESS_STATES
    installer = (CONTRIB / "installer" / "Install-Wsl2Prereq.ps1").read_text(encoding="utf-8")
    assert "$code -eq 10" in installer
    assert READINESS_EXIT["needs-confirmation"] == 10
    assert "$code -ne 9" in installer
    assert READINESS_EXIT["after-steps"] == 9


# ---- the steps the scripts take ------------------------------------------------------------


def table_keys(text: str, name: str) -> set[str]:
    match = re.search(rf"\${name} = @\{{(.*?)\n\}}", text, re.DOTALL)
    assert match, name
    return set(re.findall(r"^\s*'([a-z0-9-]+)'\s*=", match.group(1), re.MULTILINE))


def test_remediation_actions_are_real_steps() -> None:
    text = (CONTRIB / "intune" / "Remediate-NestprobeReady.ps1").read_text(encoding="utf-8")
    actions = table_keys(text, "Actions")
    never = set(re.findall(r"'([a-z0-9-]+)'", re.search(r"\$Never = @\((.*?)\)", text).group(1)))
    settle = {cid for cid, rule in SETTLE.items() if rule.fix is not None}
    assert actions <= set(REMEDIATIONS) | settle
    assert never <= set(REMEDIATIONS)
    assert not actions & never
    # Every step a supported verdict can list (a this-os action, or a settle step on a
    # Windows condition) is performed or refused on purpose.
    windows_settle = {cid for cid in settle if SETTLE[cid].fix.startswith("windows-")}
    assert set(STEP_NEEDS) | windows_settle <= actions | never
    for cid in actions & set(CONDITIONS):
        assert SETTLE[cid].fix in actions  # a condition's action is its fix's


def test_installer_step_features_are_real_steps() -> None:
    text = (CONTRIB / "installer" / "Install-Wsl2Prereq.ps1").read_text(encoding="utf-8")
    for rid in table_keys(text, "features"):
        assert rid in REMEDIATIONS or rid in SETTLE, rid


# ---- PowerShell syntax, by a tokenizer -------------------------------------------------------

_PAIRS = {"(": ")", "{": "}", "[": "]", "@(": ")", "@{": "}", "$(": ")"}
#: Approved verbs in use here (Get-Verb); a function named with another warns on import.
APPROVED = {"Get", "Set", "Test", "Invoke", "Enable", "Disable", "Install", "Resolve",
            "ConvertTo", "ConvertFrom", "New", "Remove", "Start", "Stop", "Write", "Read"}
BASHISMS = [r"&&", r"\|\|", r"\bfi\b", r"\bthen\b", r"\besac\b", r"\$\(\(", r"\[\[ ",
            r"^\s*export \w+=", r"`[a-z]+ [^`]*`$", r"\bdone\s*$", r"2>&1 >"]


_HERE = re.compile(r"@(['\"])[ \t]*\r?\n")  # a here-string opens: @' or @" ending its line


class PsSyntaxError(AssertionError):
    pass


def tokenize(text: str) -> list[str]:  # noqa: PLR0912, PLR0915 (one lexer, read top to bottom)
    """The bracket tokens of a PowerShell script, with strings, here-strings and comments
    consumed; raises on an unterminated one or a mismatched bracket. Returns the code with
    strings blanked (for the bash-ism search)."""
    stack: list[tuple[str, int]] = []
    code: list[str] = []
    i, n = 0, len(text)

    def line() -> int:
        return text.count("\n", 0, i) + 1

    def close(opener: str) -> None:
        nonlocal i
        want = _PAIRS[opener]
        if text[i] != want:
            raise PsSyntaxError(f"line {line()}: {text[i]!r} closes {opener!r}")

    while i < n:
        c = text[i]
        two = text[i:i + 2]
        if two == "<#":
            end = text.find("#>", i + 2)
            if end < 0:
                raise PsSyntaxError(f"line {line()}: block comment never closed")
            i = end + 2
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif (opening := _HERE.match(text, i)) is not None:
            end = re.compile(rf"^{opening.group(1)}@", re.MULTILINE).search(text, opening.end())
            if end is None:
                raise PsSyntaxError(f"line {line()}: here-string never closed")
            i = end.end()
            code.append(" ")
        elif c == "'":
            j = i + 1
            while True:
                j = text.find("'", j)
                if j < 0:
                    raise PsSyntaxError(f"line {line()}: ' string never closed")
                if text[j + 1:j + 2] == "'":
                    j += 2
                    continue
                break
            i = j + 1
            code.append(" ")
        elif c == '"':
            i = _double_quoted(text, i + 1, line)
            code.append(" ")
        elif c == "`":
            i += 2  # an escaped character (line continuation included)
        elif two in ("@(", "@{", "$("):
            stack.append((two, line()))
            code.append(two)
            i += 2
        elif c in "({[":
            stack.append((c, line()))
            code.append(c)
            i += 1
        elif c in ")}]":
            if not stack:
                raise PsSyntaxError(f"line {line()}: {c!r} closes nothing")
            opener, _ = stack.pop()
            close(opener)
            code.append(c)
            i += 1
        else:
            code.append(c)
            i += 1
    if stack:
        opener, where = stack[-1]
        raise PsSyntaxError(f"line {where}: {opener!r} never closed")
    return ["".join(code)]


def _double_quoted(text: str, i: int, line: Any) -> int:
    """Index after a "..." string starting at ``i``; $( ... ) inside is code (nested)."""
    while i < len(text):
        c = text[i]
        if c == "`":
            i += 2
        elif c == '"':
            if text[i + 1:i + 2] == '"':
                i += 2
                continue
            return i + 1
        elif text[i:i + 2] == "$(":
            depth, i = 1, i + 2
            while depth:
                if i >= len(text):
                    raise PsSyntaxError('$( in a "string" never closed')
                if text[i] == '"':
                    i = _double_quoted(text, i + 1, line)
                    continue
                if text[i] == "'":
                    i = text.index("'", i + 1) + 1
                    continue
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
        else:
            i += 1
    raise PsSyntaxError('" string never closed')


@pytest.mark.parametrize("script", POWERSHELL, ids=rel)
def test_powershell_tokenizes(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    (code,) = tokenize(text)
    for pattern in BASHISMS:
        match = re.search(pattern, code, re.MULTILINE)
        assert match is None, f"{rel(script)}: bash-ism {match.group(0)!r}"
    for verb, noun in re.findall(r"(?m)^\s*function (\w+)-(\w+)", text):
        assert verb in APPROVED, f"{rel(script)}: unapproved verb {verb}-{noun}"
    assert "\t" not in text
    text.encode("ascii")  # Windows PowerShell 5.1 reads a BOM-less file as ANSI


@pytest.mark.parametrize("bad", [
    "if ($a) { 'x' ", "$x = @(1, 2", "Write-Output \"$($a.b\"", "'never closed",
    "<# open", "@'\nno end\n", "if ($a)) { }", "$a = @{ 'k' = (1] }",
])
def test_tokenizer_refuses_broken_scripts(bad: str) -> None:
    with pytest.raises((PsSyntaxError, ValueError)):
        tokenize(bad)


@pytest.mark.parametrize("good", [
    "Write-Output \"a $($b.c + \"(\") d\"", "$s = @'\n} ) ]\n'@\n", "'it''s'", "# { (",
    "& bcdedit.exe /set '{current}' x", "Write-Output `\n  'x'",
])
def test_tokenizer_accepts_valid_scripts(good: str) -> None:
    tokenize(good)


def test_module_manifest_exports_the_module_functions() -> None:
    manifest = (CONTRIB / "Nestprobe" / "Nestprobe.psd1").read_text(encoding="utf-8")
    module = (CONTRIB / "Nestprobe" / "Nestprobe.psm1").read_text(encoding="utf-8")
    exported = re.search(r"FunctionsToExport = @\((.*?)\)", manifest).group(1)
    names = set(re.findall(r"'([\w-]+)'", exported))
    listed = re.search(r"Export-ModuleMember -Function (.*)", module).group(1)
    assert names == set(re.findall(r"'([\w-]+)'", listed))
    for name in names:
        assert re.search(rf"(?m)^function {name} \{{", module), name


# ---- PowerShell syntax, by a PowerShell grammar ---------------------------------------------

GRAMMAR = sorted((REPO / "build" / "ps-grammar").glob("tree-sitter-powershell-*.tgz"))


@pytest.fixture(scope="module")
def ps_parser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """tree-sitter-powershell (tools/fetch_ps_grammar.sh fetches it from npm), compiled here
    and loaded with py-tree-sitter. CI fetches it; elsewhere the test skips without it."""
    if sys.platform == "win32":
        pytest.skip("compiles the grammar on the Linux host")
    try:
        import tree_sitter
    except ImportError:
        tree_sitter = None
    if tree_sitter is None or not GRAMMAR or shutil.which("cc") is None:
        reason = "needs py-tree-sitter, cc and bash tools/fetch_ps_grammar.sh"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    where = tmp_path_factory.mktemp("ps-grammar")
    with tarfile.open(GRAMMAR[-1]) as tar:
        tar.extractall(where, filter="data")
    src = where / "package" / "src"
    library = where / "powershell.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", str(src), str(src / "parser.c"),
                    str(src / "scanner.c"), "-o", str(library)], check=True, timeout=300)
    lib = ctypes.CDLL(str(library))
    lib.tree_sitter_powershell.restype = ctypes.c_void_p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Language(int): the C pointer
        language = tree_sitter.Language(lib.tree_sitter_powershell())
    return tree_sitter.Parser(language)


def grammar_errors(parser: Any, text: bytes) -> list[str]:
    errors: list[str] = []
    stack = [parser.parse(text).root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, column = node.start_point
            errors.append(f"line {row + 1}:{column + 1}: {node.type} {node.text[:50]!r}")
        stack.extend(node.children)
    return errors


@pytest.mark.parametrize("script", POWERSHELL, ids=rel)
def test_powershell_parses_with_the_grammar(script: Path, ps_parser: Any) -> None:
    assert grammar_errors(ps_parser, script.read_bytes()) == []


@pytest.mark.parametrize("bad", [b"if ($a) { 'x' ", b"$x = @(1, 2", b'Write-Output "$($a.b"',
                                 b"function Get-X { param([string]$a) $a "])
def test_grammar_finds_broken_scripts(bad: bytes, ps_parser: Any) -> None:
    assert grammar_errors(ps_parser, bad)


# ---- the batch file under wine's cmd.exe -----------------------------------------------------

FAKE_NESTPROBE = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    /* Prints its arguments; exits with NP_FAKE_EXIT (a stand-in for nestprobe.exe). */
    for (int i = 1; i < argc; i++)
        printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
    const char *code = getenv("NP_FAKE_EXIT");
    return code ? atoi(code) : 0;
}
"""


@pytest.fixture(scope="module")
def cmd_prefix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with module_prefix(tmp_path_factory, "cmd-prefix", "runs wine on a Linux host") as prefix:
        folder = prefix / "drive_c" / "np"
        folder.mkdir()
        (folder / "fake.c").write_text(FAKE_NESTPROBE, encoding="ascii")
        mingw_build(folder / "fake.c", folder / "nestprobe.exe", "-O2", "-s")
        script = (CONTRIB / "installer" / "wsl2-prereq.cmd").read_bytes()
        (folder / "wsl2-prereq.cmd").write_bytes(
            script.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        yield prefix


def run_cmd(prefix: Path, fake_exit: int, *args: str) -> tuple[int, str]:
    assert WINE is not None
    env = wine_env(prefix)
    env.update(NP_FAKE_EXIT=str(fake_exit), NESTPROBE="C:\\np\\nestprobe.exe", DRYRUN="1")
    wine = WINE

    def run() -> subprocess.CompletedProcess[bytes]:
        with open(os.devnull, "rb") as stdin:
            return subprocess.run([wine, "cmd", "/c", "C:\\np\\wsl2-prereq.cmd", *args],
                                  env=env, cwd=prefix / "drive_c", stdin=stdin,
                                  capture_output=True, timeout=120, check=False)

    done = launched(run)
    return done.returncode, done.stdout.decode("ascii", "replace").replace("\r\n", "\n")


@pytest.mark.parametrize(("fake", "code", "says"), [
    (0, 0, "wsl2: ready"),
    (9, 3010, "would run: dism.exe /online /enable-feature "
              "/featurename:Microsoft-Windows-Subsystem-Linux /all /norestart"),
    (10, 1, "supported only if someone confirms this:\ncheck wsl2 --ready\n"),
    (1, 1, "check wsl2\n"),
    (5, 1, "check wsl2\n"),
    (7, 2, "nestprobe failed or is missing (exit 7)"),
])
def test_batch_step_branches_on_the_contract_codes(cmd_prefix: Path, fake: int, code: int,
                                                   says: str) -> None:
    exit_code, out = run_cmd(cmd_prefix, fake)
    assert out.startswith("check wsl2 --ready -q\n"), out  # the question it asks
    assert exit_code == code & 0xFF, out  # a Unix exit status keeps 8 bits: 3010 -> 194
    assert says in out


def test_batch_step_takes_the_scenario(cmd_prefix: Path) -> None:
    exit_code, out = run_cmd(cmd_prefix, 9, "hyperv")
    assert exit_code == 3010 & 0xFF
    assert "/featurename:Microsoft-Hyper-V /all /norestart" in out
    assert "bcdedit.exe /set {current} hypervisorlaunchtype auto" in out
    assert "Subsystem-Linux" not in out


def test_a_program_wine_could_not_start_is_tried_once_more() -> None:
    """wine's launcher failing (tests/wine.py LAUNCH_FAILED) says nothing of the program:
    one more try; a second failure is what the test then sees."""
    failed = subprocess.CompletedProcess([], 1, b"ShellExecuteEx failed: Internal error.\n", b"")
    ran = subprocess.CompletedProcess([], 0, b"check wsl2 --ready -q\n", b"")
    answers = [failed, ran]
    assert launched(lambda: answers.pop(0)) is ran
    answers = [failed, failed, ran]
    assert launched(lambda: answers.pop(0)) is failed
    assert answers == [ran]  # no third try
    answers = [ran, failed]
    assert launched(lambda: answers.pop(0)) is ran
