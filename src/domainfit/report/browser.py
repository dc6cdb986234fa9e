"""Open a report in headless Chromium: the console and page errors it raises, the size of each
figure, and a screenshot. Used by the browser test and by scripts/screenshot-report.

Chromium is the system's (Debian package ``chromium``) and playwright only drives it: playwright's
own browser downloads are never used, so nothing is fetched at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


class BrowserUnavailableError(RuntimeError):
    """Chromium is missing and could not be installed."""


def ensure_chromium(path: Path = CHROMIUM) -> Path:
    """The Chromium executable, installed with apt-get when missing and we are root (as in CI)."""
    if path.is_file() and os.access(path, os.X_OK):
        return path
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailableError(
            f"{path} not found and cannot install it (needs root and apt-get); "
            "run: apt-get install -y chromium"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "chromium"]
    done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:  # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BrowserUnavailableError(f"apt-get install chromium failed: {' / '.join(tail)}")
    return path


@dataclass
class PageCheck:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # anything fetched beyond the file itself
    figures: dict[str, tuple[float, float]] = field(default_factory=dict)  # data-plot: (w, h)

    @property
    def problems(self) -> list[str]:
        external = [f"request: {u}" for u in self.requests]
        return [*self.console_errors, *self.page_errors, *external]


_FIGURE_BOXES = """els => els.map(e => {
  const box = (e.querySelector('svg') || e).getBoundingClientRect();
  return [e.dataset.plot, box.width, box.height];
})"""


def check_page(
    html: Path,
    *,
    screenshot: Path | None = None,
    width: int = 1280,
    timeout_s: float = 30.0,
    extra_css: str | None = None,
) -> PageCheck:
    """Load ``html`` offline in headless Chromium and report what went wrong, if anything.
    ``extra_css`` is applied before the screenshot (e.g. to blur sample texts)."""
    # a dev dependency: only the tests and the screenshot script get here
    from playwright.sync_api import ConsoleMessage, Request, sync_playwright

    executable = ensure_chromium()
    result = PageCheck()
    url = html.resolve().as_uri()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            result.console_errors.append(message.text)

    def on_request(request: Request) -> None:
        if request.url != url and not request.url.startswith("data:"):
            result.requests.append(request.url)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), headless=True)
        try:
            context = browser.new_context(offline=True, viewport={"width": width, "height": 900})
            page = context.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.on("console", on_console)
            page.on("pageerror", lambda error: result.page_errors.append(str(error)))
            page.on("request", on_request)
            page.goto(url, wait_until="load")
            boxes = page.eval_on_selector_all("figure.plot", _FIGURE_BOXES)
            result.figures = {name: (w, h) for name, w, h in boxes}
            if screenshot is not None:
                if extra_css:
                    page.add_style_tag(content=extra_css)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return result
