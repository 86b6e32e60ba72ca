// The GOV.UK timeout warning: two minutes before the session's idle limit, a modal dialog
// says when the person will be signed out and lets them stay signed in. The server decides:
// before warning and before signing out, the page asks it how long is left, so a tab that
// was kept alive from another tab is not signed out. At the end, what the page's form holds
// is sent to the server, which keeps it for after signing in again (agencies/kept_forms.py).
const WARN_BEFORE = 120;
const body = document.body;
const left = Number(body.dataset.sessionSecondsLeft);

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function secondsLeft() {
  try {
    const response = await fetch(body.dataset.sessionStatusUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    return (await response.json()).seconds_left;
  } catch {
    return 0;
  }
}

function describe(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
}

function buildDialog() {
  const dialog = document.createElement("dialog");
  dialog.className = "mash-timeout-warning";
  dialog.setAttribute("aria-labelledby", "timeout-warning-heading");
  dialog.setAttribute("aria-describedby", "timeout-warning-text");
  dialog.dataset.testid = "timeout-warning";
  dialog.innerHTML = `
    <h2 class="govuk-heading-m" id="timeout-warning-heading" tabindex="-1">You're about to be signed out</h2>
    <p class="govuk-body" id="timeout-warning-text">For your security, we will sign you out in
      <strong class="mash-timeout-warning__countdown" data-testid="timeout-countdown"></strong>.
      What you have typed will be kept.</p>
    <p class="govuk-visually-hidden" aria-live="assertive" data-timeout-announce></p>
    <div class="govuk-button-group">
      <button type="button" class="govuk-button" data-module="govuk-button" data-timeout-stay>Stay signed in</button>
      <a class="govuk-link" href="#" data-timeout-sign-out>Sign out</a>
    </div>`;
  body.appendChild(dialog);
  return dialog;
}

let dialog = null;
let timer = null;
let ends = 0;

function schedule(seconds) {
  clearTimeout(timer);
  ends = Date.now() + seconds * 1000;
  timer = setTimeout(warnIfDue, Math.max(0, seconds - WARN_BEFORE) * 1000);
}

async function warnIfDue() {
  const seconds = await secondsLeft();
  if (seconds > WARN_BEFORE + 5) {
    schedule(seconds);
    return;
  }
  ends = Date.now() + seconds * 1000;
  show();
}

function show() {
  dialog = dialog || buildDialog();
  const countdown = dialog.querySelector(".mash-timeout-warning__countdown");
  const announce = dialog.querySelector("[data-timeout-announce]");
  const tick = async () => {
    const seconds = Math.max(0, Math.round((ends - Date.now()) / 1000));
    countdown.textContent = describe(seconds);
    // Screen readers hear the time each minute and every 15 seconds in the last one.
    if (seconds % 60 === 0 || (seconds < 60 && seconds % 15 === 0)) {
      announce.textContent = `You will be signed out in ${describe(seconds)}.`;
    }
    if (seconds > 0) {
      timer = setTimeout(tick, 1000);
      return;
    }
    const stillLeft = await secondsLeft();
    if (stillLeft > 5) {
      close();
      schedule(stillLeft);
    } else {
      await signOut();
    }
  };
  dialog.querySelector("[data-timeout-stay]").onclick = stay;
  dialog.querySelector("[data-timeout-sign-out]").onclick = (event) => {
    event.preventDefault();
    const form = document.querySelector("form.mash-logout-form");
    if (form) form.submit();
  };
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    stay();
  });
  if (!dialog.open) dialog.showModal();
  dialog.querySelector("#timeout-warning-heading").focus();
  clearTimeout(timer);
  tick();
}

function close() {
  clearTimeout(timer);
  if (dialog && dialog.open) dialog.close();
}

async function stay() {
  const response = await fetch(body.dataset.sessionKeepAliveUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken() },
  });
  close();
  if (response.status === 204) {
    schedule(await secondsLeft());
  } else {
    await signOut();
  }
}

function typedForm() {
  const main = document.getElementById("main-content") || body;
  return main.querySelector("form[method=post]");
}

async function signOut() {
  const path = window.location.pathname;
  const form = typedForm();
  const data = form ? new FormData(form) : new FormData();
  data.set("kept_path", path);
  for (const input of form ? form.querySelectorAll("input[type=file], input[type=password]") : []) {
    data.delete(input.name);
  }
  // Not followed: the sign-in page it leads to would show, and so use up, the reason.
  const response = await fetch(body.dataset.sessionTimeOutUrl, {
    method: "POST",
    credentials: "same-origin",
    redirect: "manual",
    headers: { "X-CSRFToken": csrfToken() },
    body: data,
  });
  if (response.status === 409) {
    close();
    schedule((await response.json()).seconds_left);
    return;
  }
  window.location.assign(`${body.dataset.signInUrl}?next=${encodeURIComponent(path)}`);
}

if (left > 0) {
  schedule(left);
}
