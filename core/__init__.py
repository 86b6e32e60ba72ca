"""The kernel every app builds on: rules for text, bulk loading, append-only and hash-chained
logs, keyset pages, downloads, the API's base, request limits and context, and the refused-write
errors. It imports no app of the project (checked by import-linter in `make test`)."""
