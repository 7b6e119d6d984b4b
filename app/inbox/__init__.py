"""A durable inbox per field staff member: alerts and tasks the handheld polls for."""
