// Progressive enhancement only: every page works without this file.
import { initAll } from "../govuk/govuk-frontend.min.js";
import "./countdown.js";
import "./timeout-warning.js";

document.body.classList.add("govuk-frontend-supported");
initAll();
