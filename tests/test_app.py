"""The classroom page end to end: start ``relsim app``, drive it in headless Chromium.

At a projector's 1280×720 the page must not scroll sideways; an event is
found by typing part of its name; switching an event off is answered by the
path without noise in under 300 ms (median of 5), the bands following;
switching the Su-24 downing off and changing the policy change the outcome
table and the chart. Without a browser: every value the page receives is
checked on the server, and a broken scenario file is shown, not fatal. The
browser is the system's Chromium (Debian's ``chromium`` package, which
``.ci/run`` installs); the browser tests are skipped only when no such binary
exists.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = os.environ.get("RELSIM_APP_SCREENSHOT")  # set to a path to keep a picture of the page


def _chromium() -> str | None:
    for path in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if path and os.path.exists(path):
            return path
    return None


# --------------------------------------------------------------------------- without a browser


def test_moving_an_event_on_the_page_without_a_browser():
    from model.app import ClassroomPage

    page = ClassroomPage()
    before = page.table.object
    assert 'data-state="ready"' in page.status.object
    page.move_event.value = "su24-downing-2015"
    page.move_date.value = dt.date(2017, 6, 1)
    asyncio.run(page._move(None))
    assert "2017-06-01" in page.moves_note.object
    assert page.settings().moves == (("su24-downing-2015", dt.date(2017, 6, 1)),)
    assert page.table.object != before and 'data-state="ready"' in page.status.object
    asyncio.run(page._reset_moves(None))
    assert page.table.object == before


def test_unticking_a_cause_unticks_and_greys_its_consequences_without_a_browser():
    from model.app import ClassroomPage

    page = ClassroomPage()
    events = page.event_list
    every = list(page.labels.values())
    events.set_ticked([i for i in every if i != "su24-downing-2015"])
    off = set(every) - set(events.ticked())
    assert len(off) == 13 and "sanctions-tomatoes-lifted-2017" in off
    assert page.settings().off == ("su24-downing-2015",)
    assert "12 events that follow from it go with it" in page.causal.object
    assert "color: #999" in "".join(s for g in events.groups.values() for s in g.stylesheets)
    events.set_ticked([*events.ticked(), "russian-sanctions-2015"])  # cannot come back alone
    assert "russian-sanctions-2015" not in events.ticked()
    asyncio.run(page.refresh())
    assert 'data-state="ready"' in page.status.object
    page._all_on(None)
    assert set(events.ticked()) == set(every) and page.causal.object == ""
    assert page.settings().off == ()


def test_events_are_grouped_by_period_and_found_by_name_or_year_without_a_browser():
    from model.app import ClassroomPage

    events = ClassroomPage().event_list
    assert len(events.groups) == 5 and sum(len(g.options) for g in events.groups.values()) == 80
    events.search.value_input = "su-24"
    shown = [p for p, g in events.groups.items() if g.visible]
    assert shown == ["2015–2016: the aviation crisis and the thaw"]
    assert ">2 events found<" in events.found.object
    hidden = "".join(events.groups[shown[0]].stylesheets)
    assert hidden.count("display: none") == len(events.groups[shown[0]].options) - 2
    events.search.value_input = "2020"
    assert [p for p, g in events.groups.items() if g.visible] == [
        "2017–2021: Astana, the S-400, Idlib and Karabakh"
    ]
    events.search.value_input = ""
    assert all(g.visible for g in events.groups.values()) and events.found.object == ""


@pytest.mark.parametrize(
    "widget, value, message",
    [
        ("replicates", 300_000, "replicates: 300000 is outside the page's range 20–1000"),
        ("replicates", 3, "replicates: 3 is outside the page's range 20–1000"),
        ("incidents", math.inf, "incident rate: inf is outside the page's range 0–3"),
        ("incidents", -1.0, "incident rate: -1.0 is outside the page's range 0–3"),
    ],
)
def test_the_server_refuses_values_the_controls_cannot_give(monkeypatch, widget, value, message):
    import model.app.page as page_module
    from model.app import ClassroomPage

    page = ClassroomPage()
    table = page.table.object

    def no_run(*_args, **_kwargs):
        raise AssertionError("the page ran a refused value")

    monkeypatch.setattr(page_module, "compute", no_run)
    monkeypatch.setattr(page_module, "compute_path", no_run)
    getattr(page, widget).value = value  # what a browser's console can send
    asyncio.run(page.refresh())
    assert 'data-state="error"' in page.status.object
    assert message.replace("'", "&#x27;") in page.status.object
    assert page.table.object == table  # the last good run stays on show


def test_the_server_refuses_policy_settings_dates_and_events_it_does_not_know():
    from model.app import ClassroomPage

    page = ClassroomPage()
    page.policy.value = "balancing"
    next(w for (pol, _), w in page.params.items() if pol == "balancing").value = 1e9
    asyncio.run(page.refresh())
    assert "Russia floor: 1000000000.0 is outside the page&#x27;s range 0–100" in page.status.object
    page.policy.value = "passive"
    page.move_event.value = "su24-downing-2015"
    page.move_date.value = dt.date(2100, 1, 1)  # the picker stops at 2035; a browser need not
    asyncio.run(page._move(None))
    assert "outside the run (2000-01-01 to 2035-12-31)" in page.moves_note.object
    page.move_event.value = "no-such-event"
    page.move_date.value = dt.date(2016, 1, 1)
    asyncio.run(page._move(None))
    assert "unknown event id &#x27;no-such-event&#x27;" in page.moves_note.object
    assert page.moves == {}
    page.event_list.set_ticked([*page.labels.values(), "no-such-event"])
    assert "unknown event id" in page.status.object and page.settings().off == ()
    page.step.value = 10_000
    page._go(+1)
    assert page.step.value == 14


def _broken_baseline(folder: Path) -> Path:
    """A copy of the shipped scenarios with a baseline.toml that is not TOML."""
    from model.scenario import shipped_scenarios

    folder.mkdir()
    for name, path in shipped_scenarios().items():
        shutil.copy(path, folder / f"{name}.toml")
    (folder / "baseline.toml").write_text("[run\nstart = 2000-01-01\n", encoding="utf-8")
    return folder / "baseline.toml"


def test_a_scenario_file_broken_while_serving_is_shown_in_the_page(monkeypatch, tmp_path):
    from model.app import create_app
    from model.classroom import settings
    from model.scenario import loading, shipped_scenarios

    good = shipped_scenarios()
    broken = _broken_baseline(tmp_path / "scenarios")
    files = {p.stem: p for p in broken.parent.glob("*.toml")}
    for module in (settings, loading):  # where the page finds them, and reads them
        monkeypatch.setattr(module, "shipped_scenarios", lambda: files)
    page = create_app()
    text = page.object
    assert "page-error" in text and "baseline.toml" in text and "not valid TOML" in text
    for module in (settings, loading):
        monkeypatch.setattr(module, "shipped_scenarios", lambda: good)
    assert "page-error" not in str(create_app())  # the file mended: the next visitor's page


@pytest.mark.slow  # a copy of the package and a server that starts
def test_relsim_app_with_a_broken_baseline_exits_2_with_one_line(tmp_path):
    package = tmp_path / "model"
    shutil.copytree(ROOT / "model", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "scenarios" / "baseline.toml").write_text("[run\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "model", "app", "--port", str(_free_port())],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "baseline.toml" in lines[0] and "not valid TOML" in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


# --------------------------------------------------------------------------- in the browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", "app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 40
        while True:
            if proc.poll() is not None:
                pytest.fail(f"relsim app exited early:\n{proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("relsim app did not answer within 40 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def page(server):
    chromium = _chromium()
    if chromium is None:
        pytest.skip(
            "no Chromium binary (install Debian's chromium package: apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1280, "height": 720})  # a projector
            # the page must work offline: refuse anything that is not this server
            pg.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith(server) else route.abort()
                ),
            )
            pg.goto(server, wait_until="domcontentloaded", timeout=30_000)
            _wait_ready(pg)
            yield pg
        finally:
            browser.close()


def _wait_ready(pg, timeout: float = 30.0) -> None:
    pg.locator('.status-line[data-state="ready"]').wait_for(timeout=timeout * 1000)


def _snapshot(pg) -> tuple[str, str]:
    """The outcome table's text and the chart's image data."""
    table = pg.locator("table.outcomes").inner_text()
    chart = pg.locator(".fan-chart img").get_attribute("src")
    return table, chart


def _wait_change(pg, before: tuple[str, str], timeout: float = 30.0) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pg.locator('.status-line[data-state="ready"]').count():
            now = _snapshot(pg)
            if now[0] != before[0]:
                return now
        pg.wait_for_timeout(100)
    raise AssertionError("the page did not update within the time allowed")


def _cell(table_text: str, index_title: str, column: int) -> str:
    for line in table_text.splitlines():
        if line.startswith(index_title):
            return line.split("\t")[column]
    raise AssertionError(f"no row {index_title!r} in:\n{table_text}")


def test_page_loads_with_chart_and_table(page):
    table, chart = _snapshot(page)
    assert chart and chart.startswith("data:image/png")
    assert "security (Türkiye–Russia)" in table and "years in crisis" in table
    assert _cell(table, "security", 2) == "0.0"  # the record itself: no change from the record
    assert page.locator("label", has_text="Su-24 on the Syrian border").count() == 1


def test_switching_an_event_off_and_changing_the_policy(page):
    start = _snapshot(page)

    t0 = time.monotonic()
    page.locator("label", has_text="Su-24 on the Syrian border").click()
    off = _wait_change(page, start)
    took_event = time.monotonic() - t0
    assert off[1] != start[1], "the chart did not change"
    assert _cell(off[0], "security", 2) != "0.0"  # a change from the record now shows
    # causes, not rows: the sanctions go with the downing, unticked and greyed, with a note
    sanctions = page.locator("label", has_text="Russia imposes economic sanctions on Türkiye")
    assert not sanctions.locator("input").is_checked()
    assert sanctions.evaluate("e => getComputedStyle(e).color") == "rgb(153, 153, 153)"
    assert "12 events that follow from it go with it" in page.locator(".causal li").inner_text()

    t0 = time.monotonic()
    page.get_by_label("Türkiye's policy from 2026").select_option(label="Russia pivot")
    pivot = _wait_change(page, off)
    took_policy = time.monotonic() - t0
    assert pivot[1] != off[1], "the chart did not change"
    # a pivot to Russia lifts security cooperation in 2026-2035 and costs Western alignment
    assert float(_cell(pivot[0], "security", 1)) > float(_cell(off[0], "security", 1))
    assert float(_cell(pivot[0], "alignment with the West", 1)) < float(
        _cell(off[0], "alignment with the West", 1)
    )
    # a few hundred replicates: the page answers within a couple of seconds even on a busy
    # CI machine
    assert took_event < 5 and took_policy < 5, (took_event, took_policy)

    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)

    page.get_by_label("Türkiye's policy from 2026").select_option(label="balancing")
    balancing = _wait_change(page, pivot)
    assert page.get_by_text("Russia floor").count() >= 1
    page.get_by_role("button", name="All events on").click()
    _wait_change(page, balancing)


def test_guided_history_steps_through_the_brief(page):
    page.locator(".bk-tab", has_text="Guided history").click()
    assert "14 steps" in page.locator(".guide-intro p").inner_text()
    title = page.locator(".guide-text h4")
    assert "1 of 14" in title.inner_text()
    chart = page.locator(".guide-chart img").get_attribute("src")
    for _ in range(4):
        page.get_by_role("button", name="Next ▶").click()
    _wait_text(title, "5 of 14")
    assert "Su-24" in title.inner_text()
    assert "Aviation crisis" in page.locator(".guide-text em").first.inner_text()
    assert page.locator(".guide-chart img").get_attribute("src") != chart
    for _ in range(12):  # past the end: the last step stays
        page.get_by_role("button", name="Next ▶").click()
    _wait_text(title, "14 of 14")
    assert "Balancing" in title.inner_text()
    assert "does a balancing policy make" in page.locator(".guide-text p").nth(1).inner_text()
    page.locator(".bk-tab", has_text="Explore").click()


def _wait_text(locator, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in locator.inner_text() and time.monotonic() < deadline:
        locator.page.wait_for_timeout(50)
    assert text in locator.inner_text()


def test_the_page_fits_a_projector_without_scrolling_sideways(page):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide"
    # the chart is shown at its own size (not shrunk), so its 11-point text stays readable
    natural, shown = page.locator(".fan-chart img").evaluate(
        "img => [img.naturalWidth, img.getBoundingClientRect().width]"
    )
    assert natural == shown == 880
    size = page.locator("table.outcomes td").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert size >= 14


def test_an_event_is_found_by_typing_part_of_its_name(page):
    search = page.locator(".event-search input")
    coup = page.locator("label", has_text="Failed coup attempt in Türkiye")
    su24 = page.locator("label", has_text="Su-24 on the Syrian border")
    assert coup.is_visible()
    search.press_sequentially("su-2")
    su24.wait_for(state="visible", timeout=15_000)
    coup.wait_for(state="hidden", timeout=15_000)
    assert page.locator(".found").inner_text() == "2 events found"
    search.fill("")
    search.press_sequentially("2020")
    page.locator("label", has_text="Balyun").wait_for(state="visible", timeout=15_000)
    su24.wait_for(state="hidden", timeout=15_000)
    search.fill("")
    search.press("Backspace")  # an empty query shows every event again
    coup.wait_for(state="visible", timeout=15_000)


def test_a_toggle_is_answered_in_under_300_ms(page):
    """From the click (timed in the page) to the new picture: the path without noise."""
    # events without consequences, each switched off once (not yet computed)
    titles = [
        "Failed coup attempt in Türkiye",
        "Erdoğan-Putin summit in St Petersburg",
        "First S-400 components arrive",
        "Air strike kills 33 Turkish soldiers",
        "Putin's first visit to Ankara",
    ]
    policy = page.get_by_label("Türkiye's policy from 2026")
    if policy.input_value() != "passive":  # the record's own policy: the common case
        before = _snapshot(page)
        policy.select_option(label="passive (no strategy)")
        _wait_change(page, before)
    page.evaluate(
        "() => document.addEventListener('click', () => { window.relsimClick = performance.now() },"
        " {capture: true})"
    )
    took = []
    for title in titles:
        label = page.locator("label", has_text=title)
        label.scroll_into_view_if_needed()
        _wait_ready(page)
        before = page.locator(".fan-chart img").get_attribute("src")
        host = page.locator(".fan-chart").element_handle()
        page.wait_for_timeout(300)  # the page at rest, as when a teacher clicks
        label.click()
        ms = page.wait_for_function(
            "([host, src]) => (host.shadowRoot || host).querySelector('img').src !== src"
            " && performance.now() - window.relsimClick",
            arg=[host, before],
            polling="raf",
            timeout=10_000,
        ).json_value()
        took.append(ms)
        # the bands follow: the full ensemble replaces the quick path
        page.locator('.status-line[data-stage="full"]').wait_for(timeout=30_000)
    median = statistics.median(took)
    print(f"toggle answered in {[round(t) for t in took]} ms, median {median:.0f} ms")
    # The target is 300 ms on 2 cores at rest (docs/APP.md; benchmarks/app_response.py times
    # the server's part). On a machine busy with other work the browser, the server and the
    # rest shares the cores, so there the test only checks the quick path answered before the
    # ensemble (which takes seconds): a timing must not fail the suite on a loaded machine.
    busy = os.getloadavg()[0] > 1.5 * (os.cpu_count() or 1)
    assert median < (1000 if busy else 300), took
    page.get_by_role("button", name="All events on").click()
    _wait_ready(page)
