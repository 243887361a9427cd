"""``nestprobe fleet``: assess many machines' dumps and JSON reports in one place.

inputs (files -> named machines) -> work (one file -> one record, in worker processes)
-> summary / render (table, CSV, JSON lines, Prometheus) and require (exit status).
"""
