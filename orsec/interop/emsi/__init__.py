"""EMSI (ISO/TR 22351, Emergency Management Shared Information): Hub Santé and NexSIS 2015."""
