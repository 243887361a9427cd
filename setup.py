"""Build hook: only what [project] cannot express — the cffi extension."""

from setuptools import setup

setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"])
