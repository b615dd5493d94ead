"""The case store: cases kept encrypted across sessions and channels.

`repository.CaseRepository` is the one entry point (the only code touching the database). Its
methods live with their aggregate: `cases`, `opening` (the secret and the wait after failures),
`evidence`, `inbox`, `letters` (letter records, single-use links), `deletion`, `deadlines`,
over `base` (session factory, keys, one case's sealers), `audit` and `quotas`.

Beside it: `config` (environment), `models` and the Alembic migrations in `migrations/`,
`mapping` (clear facts and sealed details), `records` (what the repository returns), `crypto`
and `files` (encryption at rest), `codes` (case codes, passphrases, hashes), `rekey` (key
rotation), `bundle` (ZIP export with the bordereau), `tracker` (erasing Rasa conversations).
Importing this package does no work.
"""
