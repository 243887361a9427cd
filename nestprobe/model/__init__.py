"""The model: the types every stage passes on, frozen all the way down.

Imports nothing else of nestprobe (tests/contract/test_layers.py), and nothing here probes: the
stages above build these values, and the applications render them.
"""
