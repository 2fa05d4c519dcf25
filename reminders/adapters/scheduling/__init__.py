"""Scheduling adapters: the nightly trigger, the job files and the scheduler's log lines."""
