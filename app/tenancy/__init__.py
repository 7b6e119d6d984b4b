"""The tenant tree: platform → city (城市/厂商) → operating group (运营集团) → area (区域) → park (车场)."""
