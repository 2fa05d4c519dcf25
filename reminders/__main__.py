"""`python -m reminders`: the same as the `reminders` command (the console starts runs so)."""

from reminders.entrypoints.cli import main

main(prog_name="reminders")
