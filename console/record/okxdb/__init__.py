"""Read-only access to OKX-style `book`/`trades` SQLite databases: levels, times, metrics."""
