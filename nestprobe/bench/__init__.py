"""``nestprobe bench``: what each nesting level costs, measured and compared.

An application on top of the probe: ``plan`` (what to measure, as data), ``collect``
(the live run through the extension), ``raw`` (the samples, also what the static
``nestprobe-bench`` prints), ``stats`` (robust figures), ``result`` (the versioned JSON
document, with the machine's assessment), ``compare`` and ``plot`` (several results side
by side), ``cli`` (the sub-commands). Importing this package measures nothing.
"""
