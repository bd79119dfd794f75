"""newswatch: news monitoring with topic tagging and a daily digest."""

__version__ = "0.1.0"
