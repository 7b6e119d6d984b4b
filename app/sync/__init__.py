"""The on-site link (现场服务器 ↔ cloud): signed /sync/v1 API, change feed, uploads, barrier commands."""
