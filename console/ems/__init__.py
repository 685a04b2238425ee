"""Execution management: order protocol, risk, journal, paper clearing engine, positions."""
