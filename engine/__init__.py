"""SEK engine: BPMN processes run by SpiffWorkflow, with state, jobs and audit in SQL.

This package is a library. It never imports Flask or :mod:`webapp`; every public
function takes a SQLAlchemy ``Session`` and flushes but never commits. The edges
(web requests, CLI commands, worker jobs) open and commit the transaction.
"""
