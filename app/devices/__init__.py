"""Handheld POS devices (手持终端) and their sign-in tokens."""
