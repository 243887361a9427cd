"""Classes of pastes met in public threads outside ../shared (issue 18's acceptance check),
each written here from the real strings docs/sources.md cites; the values are invented.

* SI-ZHCN3: a zh-CN output with full-width colons and no padding, on a cloud VM;
* SI-ZHCN2: the zh-CN hypervisor sentence, whole, elided (``...``) or in a bulleted note;
* SI-DE2, SI-ES2: requirement rows without their block (``findstr``, ``Select-String``);
* SI-FR4: an output whose non-ASCII letters a transport dropped (or wrote as ``?``);
* a sentence quoted in prose (MicrosoftDocs/windowsserverdocs#4847);
* a physical machine whose Windows reports a hypervisor is the root partition at level 0,
  never "inside a VM".
"""

from __future__ import annotations

import pytest
import winpastes as wp

from nestprobe.decode import dmi, winbuild
from nestprobe.model.report import Report
from nestprobe.output.answer import answer
from nestprobe.pipeline import build_report
from nestprobe.sources.importers import systeminfo, winlang
from nestprobe.sources.importers.common import DumpText
from nestprobe.sources.load import _parse

REQ = f"{systeminfo.PREFIX}{winlang.REQUIREMENTS}"
ZH_SENTENCE = "已检测到虚拟机监控程序。将不显示 Hyper-V 所需的功能。"  # SI-ZHCN2


def read(text: str) -> tuple[dict[str, str], str, Report]:
    """The snapshot's recorded lines, the one-sentence answer and the report of ``text``."""
    snapshot = _parse(DumpText.from_text(text, "paste"), 0)
    files = {path: fact.text or "" for path, fact in snapshot.os.files.items()}
    report = build_report(snapshot)
    return files, answer(report), report


def _zh(values: dict[str, str] | None = None, *, sentence: bool = True) -> str:
    return wp.systeminfo(wp.printed_labels("zh-CN"), rows=wp.printed_rows("zh-CN"),
                         sentence=ZH_SENTENCE if sentence else None, values=values)


def _full_width(text: str) -> str:
    """``text`` as SI-ZHCN3 shows it: each label's colon full-width, padding gone."""
    out = []
    for line in text.splitlines():
        head, colon, value = line.partition(":")
        out.append(f"{head}\uff1a{value.strip()}" if colon and not line[:1].isspace() else line)
    return "\n".join(out) + "\n"


def test_full_width_colons_read_as_the_same_fields() -> None:
    cloud = {"System Manufacturer": "Alibaba Cloud", "System Model": "Alibaba Cloud ECS"}
    plain, _, _ = read(_zh(cloud))
    wide, said, _ = read(_full_width(_zh(cloud)))
    assert "full-width colons" in wide[systeminfo.READING]
    for key in (f"{systeminfo.PREFIX}System Model", f"{systeminfo.PREFIX}OS Version",
                f"{systeminfo.PREFIX}Virtual Memory: Max Size", systeminfo.SENTENCE):
        assert wide[key] == plain[key], key
    # A cloud's DMI names its instances: never "physical hardware", so never a root partition.
    assert "root partition of Hyper-V" not in said.split(";")[0], said
    assert said.startswith("Cannot tell"), said


def test_a_cloud_name_is_never_physical_hardware() -> None:
    assert dmi.physical({"sys_vendor": "Alibaba Cloud", "product_name": "Alibaba Cloud ECS"}) \
        is None
    assert dmi.physical({"sys_vendor": "LENOVO", "product_name": "80EQCTO1WW"}) is not None


@pytest.mark.parametrize("text", [
    "```\n...\nHyper-V 要求:     " + ZH_SENTENCE + "\n```\n",  # an elided whole output
    "- 检查 Hyper-V systeminfo | findstr /i \"Hyper-V\":\n- - Hyper-V 要求: " + ZH_SENTENCE
    + "\n- - hypervisorlaunchtype Auto\n",  # a bulleted note
    "Running systeminfo.exe on a Windows 2019 server yields the following:\n"
    "\"Hyper-V Requirements:      A hypervisor has been detected. Features required for "
    "Hyper-V will not be displayed.\"\n\nSo, where do I look?\n",  # quoted in prose
])
def test_the_hypervisor_sentence_is_read_filtered_bulleted_or_quoted(text: str) -> None:
    files, said, _ = read(text)
    assert systeminfo.SENTENCE in files, files
    assert "a hypervisor is present" in said, said


@pytest.mark.parametrize(("text", "row", "word"), [
    ("```powershell\nsysteminfo | findstr /C:\"Virtualization\"\n```\n\n```\n"
     "Virtualisierung in Firmware aktiviert:  Nein\n```\n",
     "Virtualization Enabled In Firmware", "Nein"),
    ("`systeminfo` reporta:\n```\nRequisitos Hyper-V: Extensiones de modo de monitor de VM: Sí\n"
     "                    Se habilitó la virtualización en el firmware: No\n"
     "Seguridad basada en virtualización: Estado: No habilitado\n```\n",
     "Virtualization Enabled In Firmware", "No"),
    ("```text\n> systeminfo | Select-String \"Hyper-V\" -Context 0,8\n"
     "Requisitos Hyper-V:  Extensiones de modo de monitor de VM: Sí\n"
     "                     Se habilitó la virtualización en el firmware: No\n"
     "                     ...\n```\n", "Virtualization Enabled In Firmware", "No"),
])
def test_requirement_rows_without_their_block_are_read(text: str, row: str, word: str) -> None:
    files, said, _ = read(text)
    assert files[f"{REQ}/{row}"] == word
    assert not said.startswith("Yes"), said  # firmware off in every thread
    if f"{REQ}/VM Monitor Mode Extensions" in files:  # the CPU has it: the firmware is why
        assert said.startswith("No:"), said
        assert "firmware" in said, said


def _lossy(text: str, mark: str) -> str:
    """``text`` after a transport that writes ``mark`` for every non-ASCII letter."""
    return "".join(c if c.isascii() else mark for c in text)


@pytest.mark.parametrize("mark", ["", "?", "\ufffd"])
def test_french_that_lost_its_accents_is_read_and_says_so(mark: str) -> None:
    values = {"System Manufacturer": "VMware, Inc.", "System Model": "VMware7,1"}
    whole = wp.systeminfo(wp.printed_labels("fr"), rows=wp.printed_rows("fr"),
                          sentence="Un hyperviseur a été détecté. Les fonctionnalités "
                          "nécessaires à Hyper-V ne seront pas affichées.", values=values)
    intact, _, _ = read(whole)
    files, said, _ = read(_lossy(whole, mark))
    assert winlang.LOST in files[systeminfo.READING]
    assert systeminfo.SENTENCE in files
    assert files[f"{systeminfo.PREFIX}System Model"] == intact[f"{systeminfo.PREFIX}System Model"]
    assert "vmware" in said.lower(), said


def test_a_script_that_lost_every_letter_never_reads_a_word() -> None:
    """Russian written as ``?`` keeps no word to read: rows may be placed by the layout, but
    ``??`` is no yes and no no, so nothing is decided from them."""
    files, said, _ = read(_lossy(wp.localized("ru", words=("Да", "Нет", "Да", "Да")), "?"))
    rows = {k: v for k, v in files.items() if k.startswith(REQ + "/")}
    assert all(set(v) <= {"?"} for v in rows.values()), rows
    assert said.startswith("Cannot tell"), said


def test_physical_hardware_with_a_hypervisor_is_the_root_at_level_zero() -> None:
    values = {"System Manufacturer": "LENOVO", "System Model": "80EQCTO1WW",
              "OS Name": "Microsoft Windows 10 专业版"}
    _, said, report = read(_zh(values))
    assert "root partition of Hyper-V" in said, said
    assert "inside a VM" not in said, said
    nesting = report.assessment.nesting
    assert (nesting.level, nesting.at_least) == (0, 0)
    assert winbuild.edition_of_caption(values["OS Name"]) == "pro"


def _csv(code: str, values: dict[str, str], requirements: str) -> str:
    """``systeminfo /FO CSV`` as SI-CSV shows it: quoted labels, then quoted values, a
    field's lines joined by commas."""
    labels = wp.printed_labels(code)
    shown = [labels[e] for e in winlang.ORDER] + [labels[winlang.REQUIREMENTS]]
    vals = {**wp.VALUES, **values}
    cells = [vals[e].replace("\n", ",") for e in winlang.ORDER] + [requirements]
    row = ",".join(f'"{cell}"' for cell in cells)
    return "C:\\>systeminfo /FO CSV\n" + ",".join(f'"{s}"' for s in shown) + "\n" + row + "\n"


@pytest.mark.parametrize("code", ["en", "fr"])
def test_systeminfo_fo_csv_reads_as_its_list(code: str) -> None:
    vbox = {"System Manufacturer": "innotek GmbH", "System Model": "VirtualBox"}
    sentence = wp.language(code).sentences[0] + "."
    files, said, _ = read(_csv(code, vbox, sentence))
    assert "/FO CSV" in files[systeminfo.READING]
    assert files[f"{systeminfo.PREFIX}System Model"] == "VirtualBox"
    assert systeminfo.SENTENCE in files
    assert "oracle" in said.lower() or "virtualbox" in said.lower(), said
    rows = ",".join(f"{name}: {word}" for name, word in zip(
        [wp.printed_rows(code).get(r, r) for r in winlang.ROWS], ("Yes", "No", "Yes", "Yes"),
        strict=True))
    files, said, _ = read(_csv(code, {}, rows))
    assert files[f"{REQ}/Virtualization Enabled In Firmware"] == "No"
    assert said.startswith("No:"), said
