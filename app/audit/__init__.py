"""Audit log (操作日志): who did what, when, where in the tree, and the before/after."""
