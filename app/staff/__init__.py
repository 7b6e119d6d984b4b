"""Staff accounts, roles and permission codes."""
