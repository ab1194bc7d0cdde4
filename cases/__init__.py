"""Runnable case scripts (``python -m cases.NAME --help``), one study end to end each, and the
``millheat`` command line."""
