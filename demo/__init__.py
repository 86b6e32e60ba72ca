"""The demo: a county hub's agencies, one login per role, and enquiries, information requests
and records in every state (`manage.py seed_demo`), and the server with a worker and beat beside
it (`python -m demo.serve`). The top layer: it builds on every app and nothing imports it."""
