"""The first screen of every manager: a per-level overview (filled by the reports domain)."""
