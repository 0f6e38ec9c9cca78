"""Reliability campaigns (scripts, not tests) against hostile input and failing dependencies.

``python -m reliability.fuzz`` fuzzes the parsers and the listeners; tests/reliability runs
reduced forms of the campaigns in CI.
"""
