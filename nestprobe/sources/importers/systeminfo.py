"""``systeminfo`` output, whole or filtered (``systeminfo | findstr ...``), English or pt-BR.

Layout (real pastes, docs/windows.md; hyper-v-requirements.md): ``Label:`` padded to
a column, the value after it, continuation lines indented to the value column (the
processor list, the Hyper-V requirement lines). The Hyper-V section is either four lines
(``VM Monitor Mode Extensions: Yes`` ...) or the sentence ``A hypervisor has been
detected. Features required for Hyper-V will not be displayed.`` Pastes are filtered,
re-indented, bolded (``**...**``) or edited (``Hyper-V Requirement:``); all are accepted.

Records: ``systeminfo:<English label>`` = the value (continuation lines joined by a
newline) and ``systeminfo:Hyper-V Requirements/<English item>`` = Yes/No as printed
(``Sim``/``Não`` in pt-BR). Labels of other languages are not known and are skipped.
"""

from __future__ import annotations

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers.common import DumpText, Importer
from nestprobe.sources.importers.winpaste import machine_of, only_cpu_zero, paste_snapshot

FORMAT = "systeminfo"
PREFIX = "systeminfo:"
REQUIREMENTS = "Hyper-V Requirements"

#: English labels as systeminfo prints them (Windows 10/11, Windows Server).
ENGLISH = (
    "Host Name", "OS Name", "OS Version", "OS Manufacturer", "OS Configuration",
    "OS Build Type", "Registered Owner", "Registered Organization", "Product ID",
    "Original Install Date", "System Boot Time", "System Manufacturer", "System Model",
    "System Type", "Processor(s)", "BIOS Version", "Windows Directory", "System Directory",
    "Boot Device", "System Locale", "Input Locale", "Time Zone", "Total Physical Memory",
    "Available Physical Memory", "Virtual Memory: Max Size", "Virtual Memory: Available",
    "Virtual Memory: In Use", "Page File Location(s)", "Domain", "Logon Server",
    "Hotfix(s)", "Network Card(s)", "Virtualization-based security", REQUIREMENTS,
)
#: Other spellings -> the English label. pt-BR from docker/for-win#13747 (the corpus paste)
#: and public pt-BR systeminfo outputs found by code search (Windows 11 24H2, 2025);
#: "Hyper-V Requirement" is a hand-edited paste (pi-node/instructions#99).
ALIASES: dict[str, str] = {
    "Hyper-V Requirement": REQUIREMENTS,
    "Nome do host": "Host Name",
    "Nome do sistema operacional": "OS Name",
    "Versão do sistema operacional": "OS Version",
    "Fabricante do sistema operacional": "OS Manufacturer",
    "Configuração do SO": "OS Configuration",
    "Configuração do sistema operacional": "OS Configuration",
    "Tipo de compilação do sistema operacional": "OS Build Type",
    "Proprietário registrado": "Registered Owner",
    "Organização registrada": "Registered Organization",
    "Identificação do produto": "Product ID",
    "Data da instalação original": "Original Install Date",
    "Tempo de Inicialização do Sistema": "System Boot Time",
    "Fabricante do sistema": "System Manufacturer",
    "Modelo do sistema": "System Model",
    "Tipo de sistema": "System Type",
    "Processador(es)": "Processor(s)",
    "Versão do BIOS": "BIOS Version",
    "Diretório do Windows": "Windows Directory",
    "Diretório do sistema": "System Directory",
    "Inicializar dispositivo": "Boot Device",
    "Localidade do sistema": "System Locale",
    "Localidade de entrada": "Input Locale",
    "Fuso horário": "Time Zone",
    "Memória física total": "Total Physical Memory",
    "Memória física disponível": "Available Physical Memory",
    "Memória Virtual: Tamanho Máximo": "Virtual Memory: Max Size",
    "Memória Virtual: Disponível": "Virtual Memory: Available",
    "Memória Virtual: Em Uso": "Virtual Memory: In Use",
    "Local(s) do Arquivo de Página": "Page File Location(s)",
    "Domínio": "Domain",
    "Servidor de Logon": "Logon Server",
    "Hotfix(es)": "Hotfix(s)",
    "Placa(s) de Rede": "Network Card(s)",
    "Segurança baseada em virtualização": "Virtualization-based security",
    "Requisitos do Hyper-V": REQUIREMENTS,
}
#: The four requirement lines (hyper-v-requirements.md), English and pt-BR.
REQUIREMENT_ITEMS: dict[str, str] = {
    "VM Monitor Mode Extensions": "VM Monitor Mode Extensions",
    "Virtualization Enabled In Firmware": "Virtualization Enabled In Firmware",
    "Second Level Address Translation": "Second Level Address Translation",
    "Data Execution Prevention Available": "Data Execution Prevention Available",
    "Extensão de Modo de Monitor VM": "VM Monitor Mode Extensions",
    "Virtualização Habilitada no Firmware": "Virtualization Enabled In Firmware",
    "Conversão de Endereços de Segundo Nível": "Second Level Address Translation",
    "Prevenção de Execução de Dados Disponível": "Data Execution Prevention Available",
}

_LABELS: dict[str, str] = {**{label: label for label in ENGLISH}, **ALIASES}
#: Longest first, so "Fabricante do sistema operacional" wins over "Fabricante do sistema".
_ORDER = sorted(_LABELS, key=len, reverse=True)
_ITEM = lazy_compile(r"^\**\s*(?P<name>[^:*]+?)\s*:\s*\**\s*(?P<value>[^*\s]+)\s*\**\s*$")


def _label(line: str) -> tuple[str, str] | None:
    """(English label, value) when ``line`` opens a field, else None."""
    text = line.strip()
    for label in _ORDER:
        if text.startswith(label) and text[len(label):].lstrip(" ").startswith(":"):
            rest = text[len(label):].lstrip(" ")[1:]
            return _LABELS[label], rest.strip()
    return None


def sniff(dump: DumpText) -> bool:
    fields = 0
    for line in dump.lines[:200]:
        if not line.strip() or line.startswith("#"):
            continue
        found = _label(line)
        if found is not None:
            if found[0] == REQUIREMENTS:
                return True
            fields += 1
    return fields >= 3


def _requirements(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in value.splitlines():
        match = _ITEM.match(line.strip())
        if match is None:
            continue
        item = REQUIREMENT_ITEMS.get(match.group("name").strip())
        if item is not None:
            out.setdefault(f"{PREFIX}{REQUIREMENTS}/{item}", match.group("value"))
    return out


def parse(dump: DumpText, cpu: int) -> Snapshot:
    only_cpu_zero(dump, cpu, "systeminfo")
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in dump.lines:
        if line.startswith("#"):
            continue
        if not line.strip():  # hand-picked pastes put blank lines between fields
            current = None
            continue
        found = _label(line)
        if found is not None:
            label, value = found
            current = fields.setdefault(label, []) if label not in fields else None
            if current is not None:
                current.append(value)
        elif current is not None and line[:1].isspace():
            current.append(line.strip())  # a continuation line, indented under the value
        else:
            current = None  # a prompt, a command line, prose: the field has ended
    files: dict[str, str] = {}
    for label, parts in fields.items():
        value = "\n".join(p for p in parts if p)
        files[PREFIX + label] = value
        if label == REQUIREMENTS:
            files.update(_requirements(value))
    return paste_snapshot(dump, files, fmt=FORMAT, tool="systeminfo",
                          holds="Windows' own report of this machine",
                          machine=machine_of(fields.get("System Type", [None])[0]))


IMPORTER = Importer(FORMAT, sniff, parse, "Windows systeminfo output (English, pt-BR)")
