"""Verdicts: Microsoft's nested-virtualization support matrix and remediation, as data.

``evaluate.evaluate(assessment)`` gives one ``Verdict`` (``nestprobe.model.verdicts``) per
scenario (hyperv, wsl2, hyperv-containers, azure-local, third-party) with the evidence,
conditions, caveats and the fix at the layer that owns it.
"""
