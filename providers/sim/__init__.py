"""The embedded `sim` provider: a seeded synthetic market that needs no network."""
