"""inftool: verified tool-use training data from raw API specs, and the closed loop that trains on it."""

__version__ = "0.1.0"
