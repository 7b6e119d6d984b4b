"""Shifts (上下班): a collector signed in to a berth segment, and the work hours they are held to."""
