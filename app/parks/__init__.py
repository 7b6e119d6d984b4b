"""Park parameters (车场参数): collector settings, free-release reasons."""
