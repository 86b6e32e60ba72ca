"""Every route in a URL configuration, with its parameters filled in, and whether a request to
it was refused. Used by test_authorisation.py; kept apart so the walk can be read on its own."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

# What a request that was kept out gets: 401 and 403 (no credentials, or not allowed), 405 (the
# view does not take that method), or a redirect to a sign-in page. Anything else, a 404 or a
# 400 included, means the view ran for someone it should not have.
REFUSED = {401, 403, 405}
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself when it has no name
    route: str  # as Django reports it in ResolverMatch.route
    regex: str  # the whole path's pattern, for filling in its parameters
    callback: object

    def paths(self, values: list[str]) -> list[str]:
        """Every path this route answers to with its parameters taken from `values`."""
        found = []
        for form, params in normalize(self.regex):
            for combination in itertools.product(values, repeat=len(params)):
                path = "/" + form % dict(zip(params, combination, strict=True))
                if self._answers(path):
                    found.append(path)
        return list(dict.fromkeys(found))

    def _answers(self, path: str) -> bool:
        try:
            match = resolve(path)
        except Resolver404:
            return False
        return match.route == self.route and match.func is self.callback


def routes(urlconf: str | None = None) -> Iterator[Route]:
    """Every endpoint, through every include, admin and API included."""

    def walk(patterns, regex: str, route: str, namespaces: list[str]) -> Iterator[Route]:
        for pattern in patterns:
            here = regex + pattern.pattern.regex.pattern.removeprefix("^")
            path = route + str(pattern.pattern).removeprefix("^") if route else str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                yield from walk(pattern.url_patterns, here, path, inner)
            elif isinstance(pattern, URLPattern):
                name = ":".join([*namespaces, pattern.name]) if pattern.name else path
                yield Route(name=name, route=path, regex=here, callback=pattern.callback)

    yield from walk(get_resolver(urlconf).url_patterns, "", "", [])


def sign_in_pages() -> set[str]:
    """Where a refused request may be sent: the sign-in pages (the one-time password's too,
    for a session past the password alone), and the admin's index, where the admin's logout
    sends anyone who may not use the admin (the walk shows the index sends them on to the
    admin's sign-in page)."""
    return {
        reverse("login"),
        reverse("two-factor"),
        reverse("admin:login"),
        reverse("admin:index"),
    }


def refused(response) -> bool:
    if response.status_code in REFUSED:
        return True
    if response.status_code in REDIRECTS:
        target = urlsplit(response["Location"])
        return not target.netloc and target.path in sign_in_pages()
    return False
