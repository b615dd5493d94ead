"""The case store: cases kept encrypted across sessions and channels.

Modules: `config` (environment), `repository` (the only code touching the database),
`models` and the Alembic migrations in `migrations/`, `crypto` and `files` (encryption at
rest), `codes` (case codes, passphrases, hashes), `bundle` (ZIP export with the bordereau),
`tracker` (erasing Rasa conversations). Importing this package does no work.
"""
