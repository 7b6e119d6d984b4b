"""Inspectors (巡查员): inspection tasks, inspector groups bound to segments, violation reports."""
