"""How passwords are stored (settings PASSWORD_HASHERS)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class HubArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with one of OWASP's recommended settings: 46 MiB, one pass, one lane.

    Memory-hard, which Django's default PBKDF2 is not, so a stolen table of hashes gains a
    guesser's graphics cards far less; and 53 ms of CPU for a sign-in here where PBKDF2's
    1,000,000 iterations take 260 ms, so a shift of 100 people signing in within seconds of
    each other costs the two web workers 5 core-seconds rather than 26 (docs/performance.md,
    "Load"). Django's own Argon2 settings (100 MiB, 8 lanes) cost as much CPU as PBKDF2.

    Same algorithm name as Django's, so a hash made with other settings, or with PBKDF2, is
    made again with these at its owner's next sign-in."""

    time_cost = 1
    memory_cost = 47_104
    parallelism = 1
