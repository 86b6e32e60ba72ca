"""axe-core, the accessibility engine (npm, package.json), run in a page Playwright has open:
WCAG 2.2 A and AA and axe's best practices, every impact counted."""

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

AXE = Path(__file__).resolve().parent.parent.parent / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

# What a violation is reduced to: its rule, impact and help, and where (a selector per node).
_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
    summaries: violation.nodes.map((node) => node.failureSummary),
  }));
}"""


def load_axe(context: BrowserContext) -> None:
    """Every page the context opens gets axe before its own scripts. An init script is not the
    page's: the hub's Content-Security-Policy (no inline script) does not apply to it."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): install the npm packages with `make setup`.")
    context.add_init_script(path=AXE)


def axe_violations(page: Page) -> list[dict]:
    return page.evaluate(_RUN, RULES)


def described(violations: list[dict], where: str) -> str:
    """One block a rule: `region (moderate) on /queue/: All page content should be contained
    by landmarks`, then each failing element's selector and what axe says to fix."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}) on {where}: {violation['help']}")
        for target, summary in zip(violation["targets"], violation["summaries"], strict=True):
            lines.append(f"    {target}")
            first_fix = (summary or "").splitlines()[1:2]
            if first_fix:
                lines.append(f"        {first_fix[0].strip()}")
    return "\n".join(lines)
