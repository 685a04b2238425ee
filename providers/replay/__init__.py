"""Plays recordings and OKX SQLite databases back as a provider, at any speed, with seek."""
