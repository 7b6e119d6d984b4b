"""Geomagnetic sensors (地磁) and base stations (基站): ingest, occupancy sessions, alerts, health, gateway."""
