"""Alerts service (预警): payment deadlines, overdue warnings, withheld and released settlements."""
