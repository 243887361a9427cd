"""nestprobe's own dump format, version 1 (full specification: docs/dump-format.md).

:func:`format_dump` and :func:`parse_dump` are exact inverses over every field of a
:class:`Snapshot` except ``origin``, which the reader sets. Free text (file
contents, paths, CPUID detail, error names) travels as ``json.dumps`` strings with
``ensure_ascii``, so a dump is pure ASCII whatever it holds, including control
characters and the lone surrogates ``surrogateescape`` produces from undecodable
bytes.

The standalone C tool (``nestprobe-dump``) writes the same format with a
``writer nestprobe-dump-c`` header line; it escapes file *bytes* as ``\\u00XX``, so
for its files the reader maps the decoded code points back to bytes (latin-1) and
decodes those as UTF-8 with ``surrogateescape``, the same text the Python probe
would have read.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, get_args

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.latency import MODES, LatencyRecord
from nestprobe.model.proof import ProofRecord
from nestprobe.model.record import MISSING, fields
from nestprobe.model.snapshot import (
    CpuidStatus,
    CpuidTable,
    FileFact,
    FileState,
    KvmDevice,
    KvmDeviceState,
    LeafKey,
    Origin,
    OsFacts,
    Registers,
    Snapshot,
)
from nestprobe.sources.importers.common import (
    MAX_LEAVES_PER_CPU,
    DumpText,
    first_content_line,
    read_dump_text,
)

FORMAT = "nestprobe"
MAGIC: Final = "nestprobe-dump"
VERSION: Final = 1
#: Header line the C tool prints so its byte-escaped file texts are decoded as bytes.
C_WRITER: Final = "nestprobe-dump-c"
#: Writers this reader knows; any other name is accepted and treated as text-escaping.
PYTHON_WRITER: Final = "nestprobe"
#: Bound on file records: the probe watches ~30 paths.
MAX_FILES = 4096
#: Python refuses int() on longer digit strings (sys.int_info.default_max_str_digits).
MAX_INT_DIGITS = 4300

_CPUID_STATES: Final = frozenset(get_args(CpuidStatus))
_FILE_STATES: Final = frozenset(get_args(FileState))
_KVM_STATES: Final = frozenset(get_args(KvmDeviceState))
#: Exactly 8 digits, as both writers print them (``0x%08x``): a shorter value is a cut
#: line (``edx=0x76482``), not a smaller number.
_HEX = r"0x([0-9a-fA-F]{8})"
_CPUID = re.compile(
    rf"^cpuid {_HEX} {_HEX} eax={_HEX} ebx={_HEX} ecx={_HEX} edx={_HEX}$"
)
#: A value written bare: printable ASCII with no space, not starting with a quote.
_BARE = re.compile(r'[!#-~][!-~]*\Z')  # \Z, not $: $ also matches before a final newline
_INT = re.compile(r"^-?[0-9]+$")


# ---------------------------------------------------------------------------- writing


def _word(value: str) -> str:
    """``value`` bare when unambiguous, else as a JSON string."""
    return value if _BARE.match(value) else _json_str(value)


def _json_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=True)


def format_dump(snapshot: Snapshot, *, writer: str | None = None) -> str:
    """The v1 text of ``snapshot`` (origin is not written; the reader sets it)."""
    out = [f"{MAGIC} {VERSION}"]
    if writer is not None:
        out.append(f"writer {_word(writer)}")
    out.append(f"machine {_word(snapshot.os.machine)}")
    out.append(f"system {_word(snapshot.os.system)}")
    out.append(f"cpuid-status {snapshot.cpuid_status}")
    if snapshot.cpuid_detail is not None:
        out.append(f"cpuid-detail {_json_str(snapshot.cpuid_detail)}")
    if snapshot.truncated:
        out.append("truncated 1")
    for (leaf, subleaf), regs in snapshot.cpuid.items():
        out.append(
            f"cpuid 0x{leaf:08x} 0x{subleaf:08x} eax=0x{regs.eax:08x} ebx=0x{regs.ebx:08x}"
            f" ecx=0x{regs.ecx:08x} edx=0x{regs.edx:08x}"
        )
    for path, fact in snapshot.os.files.items():
        line = f"file {_word(path)} {fact.state}"
        if fact.text is not None:
            line += " " + _json_str(fact.text)
        out.append(line)
    kvm = snapshot.os.kvm
    if kvm is not None:
        line = f"kvm-device {kvm.state}"
        if kvm.api_version is not None:
            line += f" api={kvm.api_version}"
        if kvm.create_vm is not None:
            line += f" create-vm={int(kvm.create_vm)}"
        if kvm.error is not None:
            line += f" error={_word(kvm.error)}"
        out.append(line)
    if snapshot.latency is not None:
        out.append("latency " + json.dumps(snapshot.latency.to_dict(), ensure_ascii=True))
    if snapshot.proof is not None:
        out.append("proof " + json.dumps(snapshot.proof.to_dict(), ensure_ascii=True))
    out.append("end")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- reading


class _Cursor:
    """Tokenises one record line: bare words and JSON strings, left to right."""

    __slots__ = ("_dump", "_number", "_rest")

    def __init__(self, dump: DumpText, number: int, rest: str) -> None:
        self._dump = dump
        self._number = number
        self._rest = rest

    def done(self) -> bool:
        return not self._rest

    def _error(self, expected: str) -> DumpFormatError:
        return self._dump.error(self._number, expected, self._dump.lines[self._number - 1])

    def word(self, what: str) -> str:
        """A bare word or a JSON string, followed by one space or the line's end."""
        rest = self._rest
        if rest.startswith('"'):
            try:
                value, end = json.JSONDecoder().raw_decode(rest)
            except (ValueError, RecursionError):
                raise self._error(f"{what} as a JSON string") from None
            if not isinstance(value, str):
                raise self._error(f"{what} as a JSON string")
        else:
            end = rest.find(" ")
            end = len(rest) if end < 0 else end
            value = rest[:end]
            if not _BARE.match(value):
                raise self._error(what)
        self._rest = rest[end:]
        if self._rest:
            if not self._rest.startswith(" ") or self._rest.startswith("  "):
                raise self._error(f"one space after {what}")
            self._rest = self._rest[1:]
            if not self._rest:
                raise self._error(f"no trailing space after {what}")
        return value

    def keyed(self, key: str) -> str | None:
        """The value of ``key=VALUE`` if the next token is that key, else None."""
        prefix = key + "="
        if not self._rest.startswith(prefix):
            return None
        self._rest = self._rest[len(prefix) :]
        return self.word(f"{key} value")

    def finish(self, what: str) -> None:
        if self._rest:
            raise self._error(f"end of line after {what}")


class _Reader:
    """Builds a Snapshot from v1 lines, checking order, uniqueness and bounds."""

    def __init__(self, dump: DumpText) -> None:
        self.dump = dump
        self.header: dict[str, tuple[int, str]] = {}
        self.writer: str | None = None
        self.machine: str | None = None
        self.system: str | None = None
        self.status: CpuidStatus | None = None
        self.detail: str | None = None
        self.truncated = False
        self.leaves: dict[LeafKey, Registers] = {}
        self.files: dict[str, FileFact] = {}
        self.kvm: KvmDevice | None = None
        self.latency: LatencyRecord | None = None
        self.proof: ProofRecord | None = None
        self.in_records = False

    def err(self, number: int | None, expected: str) -> DumpFormatError:
        found = self.dump.lines[number - 1] if number is not None else ""
        return self.dump.error(number, expected, found)

    def read(self) -> Snapshot:
        lines = self.dump.lines
        content = [
            (n, line) for n, line in enumerate(lines, start=1) if line.strip()
            and not line.startswith("#")
        ]
        if not content:
            raise self.dump.error(None, f"'{MAGIC} {VERSION}'", "an empty file")
        first_number, first = content[0]
        if first != f"{MAGIC} {VERSION}":
            expected = f"'{MAGIC} {VERSION}' (this reader knows version {VERSION} only)"
            raise self.err(first_number, expected)
        ended = False
        for number, line in content[1:]:
            if ended:
                raise self.err(number, "nothing after 'end'")
            keyword, _, rest = line.partition(" ")
            if keyword == "end" and not rest:
                ended = True
                continue
            cursor = _Cursor(self.dump, number, rest)
            if keyword in _HEADER_KEYS:
                self._header(number, keyword, cursor)
            elif keyword in _RECORD_KEYS:
                self._finish_header(number)
                _RECORD_KEYS[keyword](self, number, line, cursor)
            else:
                raise self.err(
                    number,
                    "a header line (machine, system, cpuid-status, ...) or a record "
                    "(cpuid, file, kvm-device, latency, proof, end)",
                )
        if not ended:
            last = content[-1][0] if content else None
            raise self.dump.error(last, "'end' as the last record (the dump is truncated)")
        self._finish_header(content[-1][0])
        assert self.machine is not None
        assert self.system is not None
        assert self.status is not None
        return Snapshot(
            cpuid_status=self.status,
            cpuid=CpuidTable(self.leaves),
            os=OsFacts(system=self.system, machine=self.machine, files=self.files, kvm=self.kvm),
            latency=self.latency,
            proof=self.proof,
            cpuid_detail=self.detail,
            truncated=self.truncated,
            origin=Origin(kind="dump", path=self.dump.path, format=FORMAT, cpu=0),
        )

    # -- header

    def _header(self, number: int, key: str, cursor: _Cursor) -> None:  # noqa: PLR0912 (a case table, read top to bottom)
        if self.in_records:
            raise self.err(number, f"'{key}' in the header, before the first record")
        if key in self.header:
            raise self.err(number, f"one '{key}' line (first on line {self.header[key][0]})")
        if key == "cpuid-detail":
            value = cursor.word("the detail") if cursor._rest.startswith('"') else None
            if value is None:
                raise self.err(number, 'cpuid-detail "JSON string"')
        else:
            value = cursor.word(key)
        cursor.finish(key)
        self.header[key] = (number, value)
        if key == "writer":
            self.writer = value
        elif key == "machine":
            self.machine = value
        elif key == "system":
            self.system = value
        elif key == "cpuid-status":
            if value not in _CPUID_STATES:
                raise self.err(number, f"cpuid-status one of {sorted(_CPUID_STATES)}")
            self.status = value  # type: ignore[assignment]  # checked against the Literal
        elif key == "cpuid-detail":
            self.detail = value
        elif key == "truncated":
            if value not in ("0", "1"):
                raise self.err(number, "truncated 0 or 1")
            self.truncated = value == "1"

    def _finish_header(self, number: int) -> None:
        if self.in_records:
            return
        for key in ("machine", "system", "cpuid-status"):
            if key not in self.header:
                raise self.dump.error(number, f"a '{key}' header line before the records")
        self.in_records = True

    # -- records

    def _cpuid(self, number: int, line: str, cursor: _Cursor) -> None:
        match = _CPUID.match(line)
        if match is None:
            raise self.err(
                number, "'cpuid 0xLEAF 0xSUBLEAF eax=0x... ebx=0x... ecx=0x... edx=0x...'"
            )
        leaf, sub, eax, ebx, ecx, edx = (int(g, 16) for g in match.groups())
        key = (leaf, sub)
        if key in self.leaves:
            raise self.err(number, f"one record per leaf/subleaf ({leaf:#x}/{sub:#x} repeats)")
        if len(self.leaves) >= MAX_LEAVES_PER_CPU:
            raise self.err(number, f"at most {MAX_LEAVES_PER_CPU} cpuid records")
        self.leaves[key] = Registers(eax, ebx, ecx, edx)

    def _file(self, number: int, line: str, cursor: _Cursor) -> None:
        path = cursor.word("a path")
        state = cursor.word("a file state")
        if state not in _FILE_STATES:
            raise self.err(number, f"a file state, one of {sorted(_FILE_STATES)}")
        text: str | None = None
        if not cursor.done():
            if not cursor._rest.startswith('"'):
                raise self.err(number, "the file text as a JSON string")
            text = cursor.word("the file text")
            if self.writer == C_WRITER:
                text = self._from_c_bytes(number, text)
        cursor.finish("the file record")
        if path in self.files:
            raise self.err(number, f"one record per file ({path!r} repeats)")
        if len(self.files) >= MAX_FILES:
            raise self.err(number, f"at most {MAX_FILES} file records")
        self.files[path] = FileFact(state, text)  # type: ignore[arg-type]  # checked above

    def _from_c_bytes(self, number: int, text: str) -> str:
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            raise self.err(number, "byte escapes (\\u0000-\\u00ff) from nestprobe-dump-c") from None
        return raw.decode("utf-8", errors="surrogateescape")

    def _kvm(self, number: int, line: str, cursor: _Cursor) -> None:
        if self.kvm is not None:
            raise self.err(number, "one kvm-device record")
        state = cursor.word("a kvm-device state")
        if state not in _KVM_STATES:
            raise self.err(number, f"a kvm-device state, one of {sorted(_KVM_STATES)}")
        api = cursor.keyed("api")
        create = cursor.keyed("create-vm")
        error = cursor.keyed("error")
        cursor.finish("the kvm-device record (api=, create-vm=, error= in that order)")
        if api is not None and (not _INT.match(api) or len(api) > MAX_INT_DIGITS):
            raise self.err(number, "api=INTEGER")
        if create is not None and create not in ("0", "1"):
            raise self.err(number, "create-vm=0 or create-vm=1")
        self.kvm = KvmDevice(
            state=state,  # type: ignore[arg-type]  # checked above
            api_version=int(api) if api is not None else None,
            create_vm=(create == "1") if create is not None else None,
            error=error,
        )

    def _latency(self, number: int, line: str, cursor: _Cursor) -> None:
        if self.latency is not None:
            raise self.err(number, "one latency record")
        payload = line[len("latency ") :]
        try:
            data = json.loads(payload, parse_constant=_no_constant)
        except _NonStandardNumberError as exc:
            raise self.err(number, f"standard JSON numbers in the latency record ({exc})") from None
        except (ValueError, RecursionError):
            raise self.err(number, "latency {JSON object}") from None
        if not isinstance(data, dict):
            raise self.err(number, "latency {JSON object}")
        problem = _latency_problem(data)
        if not problem and data.get("mode", MODES[0]) not in MODES:
            problem = f"mode must be one of {', '.join(MODES)}"
        if problem:
            raise self.err(number, f"a LatencyRecord object ({problem})")
        try:
            self.latency = LatencyRecord.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self.err(number, f"a LatencyRecord object ({exc})") from None


    def _proof(self, number: int, line: str, cursor: _Cursor) -> None:
        if self.proof is not None:
            raise self.err(number, "one proof record")
        payload = line[len("proof ") :]
        try:
            data = json.loads(payload, parse_constant=_no_constant)
        except _NonStandardNumberError as exc:
            raise self.err(number, f"standard JSON numbers in the proof record ({exc})") from None
        except (ValueError, RecursionError):
            raise self.err(number, "proof {JSON object}") from None
        try:
            self.proof = ProofRecord.from_dict(data)
        except ValueError as exc:
            raise self.err(number, f"a ProofRecord object ({exc})") from None


class _NonStandardNumberError(ValueError):
    pass


def _no_constant(name: str) -> Any:
    """``json.loads`` accepts NaN and Infinity, which RFC 8259 JSON does not have."""
    raise _NonStandardNumberError(f"{name} is not a number")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_int(x) for x in value)


#: LatencyRecord annotation -> (check, what). LatencyRecord.from_dict does not check
#: types, so the reader does, by each field's declared type (model/latency.py); a field
#: with an annotation not listed here is passed through unchecked.
_ANNOTATION_CHECKS: dict[str, tuple[Any, str]] = {
    "float": (_is_number, "a number"),
    "int": (_is_int, "an integer"),
    "str": (_is_str, "a string"),
    "tuple[int, ...]": (_is_int_list, "a list of integers"),
}


def _latency_problem(data: dict[str, Any]) -> str:
    declared = fields(LatencyRecord)
    names = {f.name for f in declared}
    required = [
        f.name for f in declared if f.default is MISSING and f.default_factory is None
    ]
    missing = [n for n in required if n not in data]
    if missing:
        return f"missing {', '.join(missing)}"
    unknown = sorted(set(data) - names)
    if unknown:
        return f"unknown {', '.join(unknown)}"
    for f in declared:
        if f.name not in data:
            continue
        annotation = f.type
        optional = annotation.endswith(" | None")
        check, what = _ANNOTATION_CHECKS.get(
            annotation.removesuffix(" | None"), (lambda v: True, "")
        )
        value = data[f.name]
        if not ((optional and value is None) or check(value)):
            return f"{f.name} must be {what}{' or null' if optional else ''}"
    return ""


_HEADER_KEYS: Final = frozenset(
    {"writer", "machine", "system", "cpuid-status", "cpuid-detail", "truncated"}
)
_RECORD_KEYS: Final = {
    "cpuid": _Reader._cpuid,
    "file": _Reader._file,
    "kvm-device": _Reader._kvm,
    "latency": _Reader._latency,
    "proof": _Reader._proof,
}


def sniff(dump: DumpText) -> bool:
    """True when the first content line is the v1 magic (any version: the reader says which)."""
    first = first_content_line(dump)
    return first is not None and (first[1].startswith(MAGIC + " ") or first[1] == MAGIC)


def parse_dump(text: str, path: str = "<string>") -> Snapshot:
    """The Snapshot a v1 dump text describes; DumpFormatError for anything else."""
    return _Reader(DumpText.from_text(text, path)).read()


def parse_dump_lines(dump: DumpText, cpu: int = 0) -> Snapshot:
    """Loader entry point: own dumps hold one CPU's view."""
    if cpu != 0:
        raise dump.cpu_error(None, "cpu=0 (a nestprobe dump records one CPU's view)", f"cpu={cpu}")
    return _Reader(dump).read()


def read_dump(path: str) -> Snapshot:
    """Read a v1 dump file (size-limited, UTF-8)."""
    return _Reader(read_dump_text(path)).read()
