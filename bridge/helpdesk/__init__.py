"""The helpdesk's scheduled jobs (issue 15): SLA reminders and the auto-close.

`Helpdesk` (jobs.py) is the component the wiring adds when a group configures `sla` or
`auto_close_after`; reminders.py and auto_close.py are its jobs, sla.py their arithmetic.
"""

from bridge.helpdesk.jobs import JOBS, Helpdesk, tick_interval, wanted

__all__ = ["JOBS", "Helpdesk", "tick_interval", "wanted"]
