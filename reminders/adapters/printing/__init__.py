"""Printing adapters: letter texts, layout, volumes, render pools and queues,
the auditor's report."""
