"""Polku: serverless marketing automation, every customer a segment of one."""

__version__ = "0.1.0"
