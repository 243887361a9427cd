#!/usr/bin/env bash
# The PowerShell grammar the contrib tests parse scripts with (tests/test_contrib_windows.py):
# tree-sitter-powershell (MIT, Airbus CERT) from the npm registry, as its package: grammar
# C sources the test compiles and loads with py-tree-sitter. Kept out of the repository.
#
#   bash tools/fetch_ps_grammar.sh      -> build/ps-grammar/tree-sitter-powershell-0.26.4.tgz
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/ps-grammar
if ! ls build/ps-grammar/tree-sitter-powershell-0.26.4.tgz >/dev/null 2>&1; then
    (cd build/ps-grammar && npm pack --silent tree-sitter-powershell@0.26.4 >/dev/null)
fi
ls build/ps-grammar/tree-sitter-powershell-0.26.4.tgz
