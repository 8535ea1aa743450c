"""OASIS Common Alerting Protocol (CAP 1.2, CAP 1.1 input)."""
