"""Storage: the tables and every query the bridge runs — the only place that writes SQL.

- `storage.db`: config URL → async engine (SQLite by default, PostgreSQL by URL), sessions.
- `storage.models`: the SQLModel tables; `storage.timeutil`: aware-UTC datetimes.
- `storage.customers`, `.conversations`, `.messages`, `.links`, `.counters`, `.operators`,
  `.state` (event dedup, key-value), `.avatars`, `.outbox`: the queries, by subject.
- `storage.migrate`: Alembic migrations (storage/migrations), run by `talker-bridge migrate`.
"""
