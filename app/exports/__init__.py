"""Excel exports (数据导出) of every list and report, in the background when large."""
