"""Printing adapters: letter texts, layout, volumes and the dispatch logs published beside
them, render pools and queues, the auditor's report."""
