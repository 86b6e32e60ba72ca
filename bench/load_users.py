"""The people bench/load.py simulates, for locust: run by that bench, not by hand.

Each signs in once with their own account and then reads pages as a browser would, following
links found on the pages they read (an enquiry from the queue, a request from the inbox). A
page is an error unless it answers 200 itself: a redirect to the sign-in page is not success.
Every request is written to the file bench/load.py reads its figures from.
"""

import json
import os
import random
import sys
import time
from collections import defaultdict
from itertools import count
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.harness import (  # noqa: E402 - takes this folder, and its "queue.py", off the path
    ACCOUNTS_VARIABLE,
    ENQUIRY_LINK,
    MIX,
    REPORT_LINK,
    REQUEST_LINK,
    RESULTS_VARIABLE,
    THINK,
    THINK_VARIABLE,
    Account,
    intake_answers,
    is_loopback,
    rating_answers,
    read_form,
    save_problem,
    sign_in_problem,
    someone_new,
    think_seconds,
)

ACCOUNTS = [Account(**row) for row in json.loads(os.environ.get(ACCOUNTS_VARIABLE, "[]"))]
QUEUE_FILTERS = [
    "rating=red",
    "rating=amber",
    "at_risk=on",
    "breached=on",
    "mine=on",
    "state=researching",
    "q=Kowalski",
    "q=Nowak",
    "page=2",
]
SEARCH_WORDS = ["home", "missing", "attendance", "incident", "appointments", "school"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

samples: list[list] = []
times: dict[str, float] = {}
signed_in = 0
taken: defaultdict[str, count] = defaultdict(count)  # accounts handed out, per kind


@events.request.add_listener
def _record(request_type, name, response_time, exception, start_time=None, **kwargs) -> None:
    error = None if exception is None else str(exception)[:300]
    samples.append([request_type, name, start_time or time.time(), response_time, error])


@events.test_start.add_listener
def _started(environment, **kwargs) -> None:
    times["start"] = time.time()


@events.test_stop.add_listener
def _stopped(environment, **kwargs) -> None:
    times.setdefault("stop", time.time())


@events.quitting.add_listener
def _write(environment, **kwargs) -> None:
    times.setdefault("stop", time.time())
    Path(os.environ[RESULTS_VARIABLE]).write_text(json.dumps({"samples": samples, "times": times}))


class Person(FastHttpUser):
    abstract = True
    wait_time = between(*think_seconds(os.environ.get(THINK_VARIABLE, THINK)))
    kind = ""

    def on_start(self) -> None:
        if not is_loopback(self.host):
            raise StopUser  # the bench loads this machine's own server and nothing else
        mine = [account for account in ACCOUNTS if account.kind == self.kind]
        number = next(taken[self.kind])
        self.account = mine[number % len(mine)]
        self.rng = random.Random(f"{self.account.username}-{number}")
        self.sign_in()

    def sign_in(self) -> None:
        global signed_in
        page = self.page("/sign-in/", "sign-in page")
        if page is None:
            raise StopUser
        token = read_form(page, "/sign-in/").values["csrfmiddlewaretoken"][0]
        data = {
            "csrfmiddlewaretoken": token,
            "username": self.account.username,
            "password": self.account.password,
        }
        for path, name, expected, body in (
            ("/sign-in/", "sign in", "/", data),
            ("/", "home", self.account.lands_on, None),
        ):
            method = self.client.post if body else self.client.get
            extra = {"data": urlencode(body), "headers": FORM} if body else {}
            with method(
                path, name=name, allow_redirects=False, catch_response=True, **extra
            ) as answer:
                location = answer.headers.get("Location") if answer.headers else None
                problem = sign_in_problem(answer.status_code, location, expected=expected)
                if problem:
                    answer.failure(f"{self.account.username}: {problem}")
                    raise StopUser
        signed_in += 1
        if signed_in == self.environment.parsed_options.num_users:
            times["all_signed_in"] = time.time()

    def page(self, path: str, name: str) -> str | None:
        """The page's HTML, or None (and an error) unless it answered 200."""
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as got:
            if got.status_code != 200:
                where = got.headers.get("Location") if got.headers else None
                got.failure(
                    f"{path} answered {got.status_code}" + (f" to {where}" if where else "")
                )
                return None
            return got.text

    def save(self, path: str, name: str, data: dict, expected: tuple[str, ...] = ()) -> tuple:
        """Post a form as the browser would; its status, redirect and HTML. An error unless it
        redirects to the enquiry or shows one of the `expected` markers (see save_problem)."""
        with self.client.post(
            path,
            name=name,
            data=urlencode(data, doseq=True),
            headers=FORM,
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            location = (answer.headers.get("Location") if answer.headers else None) or ""
            page = answer.text or ""
            problem = save_problem(answer.status_code, location, page, expected=expected)
            if problem:
                answer.failure(f"{path}: {problem}")
            return answer.status_code, location, page

    def enquiries_on(self, page: str | None) -> None:
        found = ENQUIRY_LINK.findall(page or "")
        if found:
            self.references = found

    def read_queue(self) -> None:
        self.enquiries_on(self.page("/queue/", "queue"))

    def read_an_enquiry(self) -> None:
        enquiry = self.an_enquiry()
        if enquiry:
            self.page(enquiry, "enquiry page")

    def an_enquiry(self) -> str | None:
        """An enquiry's page from the last queue page read (the queue first, if none was)."""
        if not getattr(self, "references", None):
            self.read_queue()
        return self.rng.choice(self.references) if getattr(self, "references", None) else None

    def show(self, status: int, location: str) -> None:
        """After a save, the browser follows the redirect to the enquiry."""
        if status == 302 and location:
            self.page(location, "enquiry page")


class Researcher(Person):
    """Works the queue: reads enquiries, logs new ones now and then, rates them."""

    weight = MIX["researcher"]
    kind = "researcher"

    @task(3)
    def queue(self) -> None:
        self.read_queue()

    @task(3)
    def queue_filtered(self) -> None:
        self.enquiries_on(self.page(f"/queue/?{self.rng.choice(QUEUE_FILTERS)}", "queue: filtered"))

    @task(4)
    def enquiry(self) -> None:
        self.read_an_enquiry()

    @task(1)
    def log_enquiry(self) -> None:
        page = self.page("/enquiries/new/", "intake form")
        if page is None:
            return
        data = intake_answers(read_form(page, "intake-form"), self.rng)
        self.wait()  # typing it in
        status, location, answer = self.save(
            "/enquiries/new/", "intake: save", data, expected=("duplicate-check",)
        )
        if status == 200:  # likely matches in the register: they are someone new
            data = someone_new(read_form(answer, "intake-form"))
            status, location, _ = self.save("/enquiries/new/", "intake: save", data)
        self.show(status, location)

    @task(1)
    def rate(self) -> None:
        enquiry = self.an_enquiry()
        if not enquiry:
            return
        path = f"{enquiry}rate/"
        page = self.page(path, "rating form")
        if page is None:
            return
        data = rating_answers(read_form(page, "action-form"), self.rng)
        self.wait()
        # Someone else may have rated it first: the form says so, as it should.
        status, location, _ = self.save(path, "rating: save", data, expected=("stale-edit",))
        self.show(status, location)


class Practitioner(Person):
    """Answers their agency's information requests and searches its records."""

    weight = MIX["practitioner"]
    kind = "practitioner"

    @task(4)
    def inbox(self) -> None:
        page = self.page("/inbox/", "inbox")
        if page:
            self.requests = REQUEST_LINK.findall(page) or getattr(self, "requests", [])

    @task(4)
    def information_request(self) -> None:
        if not getattr(self, "requests", None):
            self.inbox()
        if getattr(self, "requests", None):
            self.page(self.rng.choice(self.requests), "request page")

    @task(2)
    def search(self) -> None:
        self.page(f"/sharing/search/?q={self.rng.choice(SEARCH_WORDS)}", "record search")


class Manager(Person):
    """Watches the dashboard and the queue, reads enquiries and reports."""

    weight = MIX["manager"]
    kind = "manager"

    @task(3)
    def dashboard(self) -> None:
        self.page("/dashboard/", "dashboard")

    @task(2)
    def queue(self) -> None:
        self.read_queue()

    @task(3)
    def enquiry(self) -> None:
        self.read_an_enquiry()

    @task(2)
    def report(self) -> None:
        if not getattr(self, "reports", None):
            self.reports = REPORT_LINK.findall(self.page("/reports/", "reports") or "")
        if self.reports:
            self.page(self.rng.choice(self.reports), "report page")
