"""OKX book/trades SQLite databases as a read-only market-data source (the `sqlite` provider)."""
