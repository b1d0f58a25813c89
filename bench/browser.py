#!/usr/bin/env python
"""Atalaya in a real browser: how long each page takes to be drawn after what a user does. Not part of the test suite.

    .venv/bin/python bench/browser.py                           # data/warehouse.duckdb, public mode, 10 repetitions
    .venv/bin/python bench/browser.py --repeat 3 --pages mapa municipio --mode interno

Starts `streamlit run app.py` on a free port of 8600-8699 (stopped at the end, also on errors), drives Chromium
with Playwright, prints a table as it goes and writes artifacts/bench/browser.json. Goal: p95 <= 1000 ms.

Timed from the user's event (URL load, option click, key press, map click) until the page is drawn: the script
is not running (stApp's ``data-test-script-state`` "notRunning" and, after a widget, something else since the
event), no stSpinner or stSkeleton, every visible Vega chart with its SVG/canvas sized and marked, every visible
map with its deck.gl canvas sized; the time ends when all that holds and the DOM has not changed for 100 ms since.

Caches: each timed event is a real change, a widget from its value A to B (timed) and back to A (not timed). The
first timed repetition is reported apart («primera vez»: the server may compute those results for the first
time); later ones find the core results in the server's result cache (per process, shared by all sessions), so
p50/p95 are mostly Streamlit, the page's Python, the transfer and the drawing. A URL load (public mode) is a new
session; in internal mode (a throwaway local account) the session logs in once and opens each page from the
sidebar menu, after another page. The period slider is keyboard-driven (its time includes Streamlit's wait before
sending a slider's value). A map click deck.gl loses (a busy machine) is repeated, timed from the one sent.
Payload (median; "first_bytes": first repetition): bytes and frames received over Streamlit's WebSocket (a large
message is sent once per session, then a reference) and script runs."""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, WebSocket, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # core/, for the account of the internal mode
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "artifacts" / "bench"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PORTS = range(8600, 8700)
GOAL_MS, TIMEOUT_MS, QUIET_MS = 1000, 60_000, 100
MAIN, SIDEBAR, DECK = '[data-testid="stMain"]', '[data-testid="stSidebar"]', '[data-testid="stDeckGlJsonChart"]'
USER = "banco"
# stem -> (URL path, title in the sidebar menu), as app.py registers them
PAGES = {"resumen": ("", "Resumen"), "mapa": ("mapa", "Mapa nacional"), "municipio": ("municipio", "Municipio"),
         "escuelas": ("escuelas", "Centros educativos"), "informes": ("informes", "Constructor de informes"),
         "alertas": ("alertas", "Alertas tempranas"), "datos_abiertos": ("datos_abiertos", "Datos abiertos"),
         "boletin": ("boletin", "Boletín"), "calidad": ("calidad", "Calidad de datos"),
         "metodologia": ("metodologia", "Metodología y definiciones")}
NO_SELECTION = "Ninguno (haga clic en el mapa o elija aquí)"  # app_pages/mapa.py, «Municipio seleccionado»

# In every new document: when the DOM last changed, and the script runs the app shows.
WATCH_JS = """(() => { if (window.top !== window) return;
  const b = window.__bench = {ran: false, runs: 0, state: null, changed: performance.now(), since: null};
  new MutationObserver(() => {
    b.changed = performance.now();
    const state = document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state');
    if (state !== b.state && state === 'running') b.runs += 1;
    if (state && state !== 'notRunning' && state !== 'initial') b.ran = true;
    b.state = state;
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true}); })();"""
ARM_JS = "() => Object.assign(window.__bench, {ran: false, runs: 0, since: null})"
# Polled every animation frame: false until the page is drawn and quiet, then how long ago it was drawn.
DRAWN_JS = """([needRun, quietMs]) => {
  const b = window.__bench, now = performance.now(), app = document.querySelector('[data-testid="stApp"]');
  const sized = el => !!el && el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
  const shown = sel => [...document.querySelectorAll(sel)].filter(el => el.checkVisibility());
  const ready = !!b && app?.getAttribute('data-test-script-state') === 'notRunning' && (b.ran || !needRun)
    && !document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]')
    && shown('[data-testid="stVegaLiteChart"]').map(c => c.querySelector('.vega-embed svg.marks, .vega-embed canvas'))
         .every(el => sized(el) && (el instanceof HTMLCanvasElement || !!el.querySelector('.role-mark')))
    && shown('[data-testid="stDeckGlJsonChart"]').every(d => sized(d.querySelector('canvas')));
  if (!ready) { if (b) b.since = null; return false; }
  b.since ??= now;
  const drawn = Math.max(b.since, b.changed);  // after 3 s, a DOM that never rests is taken as drawn
  return now - drawn >= quietMs ? {lag: now - drawn, runs: b.runs} : now - b.since > 3000 ? {lag: now - b.since, runs: b.runs} : false;
}"""


class Skip(Exception):
    """The action cannot be measured on this page (says why)."""


Trigger = Callable[[], Any]  # the timed event; may return the perf_counter() of when it really happened
Step = Callable[["Session"], Trigger]  # prepares the event (not timed) and returns it


@dataclass(frozen=True)
class Action:
    name: str
    do: Step
    undo: Step | None = None  # not timed: back to A, so that the next `do` is a change
    need_run: bool = True     # False for a URL load: a new document, whose first run is the one to wait for


@dataclass
class Session:
    page: Page
    url: str
    mode: str
    password: str
    bytes: int = 0   # over Streamlit's WebSocket: bytes and frames received, frames sent
    frames: int = 0
    sent: int = 0

    def __post_init__(self) -> None:
        self.page.on("websocket", lambda ws: ws.url.endswith("/_stcore/stream") and self._watch(ws))

    def _watch(self, ws: WebSocket) -> None:
        ws.on("framereceived", self._received)
        ws.on("framesent", lambda _: setattr(self, "sent", self.sent + 1))

    def _received(self, payload: str | bytes) -> None:
        self.bytes += len(payload.encode() if isinstance(payload, str) else payload)
        self.frames += 1

    def drawn(self, need_run: bool = True) -> tuple[float, dict]:
        """(perf_counter() when seen, {lag: ms since drawn, runs}) once the page is drawn."""
        handle = self.page.wait_for_function(DRAWN_JS, arg=[need_run, QUIET_MS], polling="raf", timeout=TIMEOUT_MS)
        return time.perf_counter(), handle.json_value()

    def timed(self, trigger: Trigger, need_run: bool = True) -> tuple[float, int, int, int]:
        """(ms until drawn, bytes and frames received, script runs) of one event (also used, ignored, for steps
        that are not timed: undoing an action, a login)."""
        if need_run:
            self.page.evaluate(ARM_JS)
        received, frames, start = self.bytes, self.frames, time.perf_counter()
        fired = trigger()
        seen, info = self.drawn(need_run)
        ms = (seen - (fired if isinstance(fired, float) else start)) * 1000 - info["lag"]
        return max(0.0, ms), self.bytes - received, self.frames - frames, info["runs"]

    def open(self, stem: str) -> None:
        """A new session on the page (logged in, in internal mode), not timed."""
        self.page.goto(f"{self.url}/{PAGES[stem][0]}")
        self.drawn(need_run=False)
        if self.mode == "interno":
            self.page.get_by_label("Usuario").fill(USER)
            self.page.get_by_label("Contraseña").fill(self.password)
            self.timed(self.page.get_by_role("button", name="Entrar").click)


def menu(stem: str) -> Step:
    """The page's link in the sidebar menu, from another page (internal mode: one session, one login)."""
    def link(s: Session, to: str) -> Trigger:
        return s.page.locator(f'{SIDEBAR} [data-testid="stSidebarNavLink"]').filter(has_text=PAGES[to][1]).first.click

    def prepare(s: Session) -> Trigger:
        if urlparse(s.page.url).path.strip("/") == PAGES[stem][0]:
            s.timed(link(s, "metodologia" if stem != "metodologia" else "resumen"))
        return link(s, stem)
    return prepare


def select(label: str, target: str | None = None) -> tuple[Step, Step]:
    """(choose B, choose A back) in a select box of the page; A is the value shown at first, B ``target`` or
    else the first other option of its list."""
    values: dict[str, str] = {}

    def choose(s: Session, forward: bool) -> Trigger:
        box = s.page.locator(MAIN).get_by_role("combobox", name=label, exact=True)
        if not box.count():  # the page is drawn: it has no such box
            raise Skip(f"la página no muestra el control «{label}»")
        values.setdefault("a", box.input_value())
        box.click()
        box.press("ArrowDown")  # a click may focus the box without opening its list
        options = s.page.get_by_role("option")
        options.first.wait_for(timeout=10_000)
        if "b" not in values:
            values["b"] = target or next(t.strip() for t in options.all_inner_texts() if t.strip() != values["a"])
        text = values["b" if forward else "a"]
        option = s.page.get_by_role("option", name=text, exact=True).first
        if not option.is_visible():  # a long list shows only some options: filter it
            box.fill(text)
        option.wait_for(timeout=10_000)
        return option.click

    return (lambda s: choose(s, True)), (lambda s: choose(s, False))


def radio(label: str, value: str) -> Step:
    return lambda s: s.page.locator(f'{MAIN} [data-testid="stRadio"]').filter(
        has=s.page.locator('[data-testid="stWidgetLabel"]', has_text=label)).get_by_text(value, exact=True).click


def period(key: str) -> Step:
    """A key on the first thumb of «Periodo» in the sidebar: ArrowRight, its first year one later."""
    def prepare(s: Session) -> Trigger:
        thumb = s.page.locator(f'{SIDEBAR} [data-testid="stSlider"]').filter(has_text="Periodo").get_by_role("slider").first
        thumb.focus()
        return lambda: thumb.press(key)
    return prepare


def map_click(s: Session) -> Trigger:
    """Hover the centre of the national map until deck.gl names a municipality (it answers the pointer only
    once drawn); the event is the click, up to three until one sends the selection to the server."""
    deck = s.page.locator(f"{MAIN} {DECK}").first
    deck.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = deck.locator("canvas").first.bounding_box()
    if box is None:
        raise Skip("el mapa no tiene lienzo")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tooltip = s.page.locator(".deck-tooltip")
    for attempt in range(20):
        s.page.mouse.move(x + attempt % 2, y)
        s.page.wait_for_timeout(300)
        if tooltip.is_visible() and tooltip.inner_text().strip():
            break
    else:  # deck.gl has not drawn the map yet: try again
        raise PlaywrightError("el mapa no muestra el nombre de ningún municipio en su centro")

    def click() -> float:
        for _ in range(3):
            sent, start = s.sent, time.perf_counter()
            s.page.mouse.click(x, y)
            deadline = time.monotonic() + 3
            while s.sent == sent and time.monotonic() < deadline:
                s.page.wait_for_timeout(20)
            if s.sent > sent:
                return start
        raise PlaywrightError("tres clics y el mapa no envió ninguna selección")
    return click


def unselect(s: Session) -> Trigger:
    """Back to no municipality selected (the box under the map), after checking the click selected one."""
    if not s.page.get_by_text("Ver el municipio en detalle").is_visible():
        raise PlaywrightError("el clic no seleccionó ningún municipio")
    return select("Municipio seleccionado", NO_SELECTION)[0](s)


def actions(stem: str, mode: str) -> list[Action]:
    """Open the page, change the period in the sidebar, and the page's own main control."""
    opening = (Action("abrir la página (URL)", lambda s: lambda: s.page.goto(f"{s.url}/{PAGES[stem][0]}"), need_run=False)
               if mode == "publico"
               else Action("abrir la página (menú lateral)", menu(stem)))
    own = {
        "resumen": [Action("Serie → Mensual", radio("Serie", "Mensual"), radio("Serie", "Anual"))],
        "mapa": [Action("Vista → Índice de prioridad", *select("Vista", "Índice de prioridad")),
                 Action("Vista → Puntos calientes", *select("Vista", "Puntos calientes")),
                 Action("clic en el centro del mapa", map_click, unselect)],
        "municipio": [Action("Municipio → otro", *select("Municipio"))],
        "escuelas": [Action("Municipio → el primero", *select("Municipio"))],
        "informes": [Action("Desglosar por → Departamento", *select("Desglosar por", "Departamento"))],
        "alertas": [Action("Falsos descubrimientos → 10 %", *select("Tasa de falsos descubrimientos", "10 %"))],
        "boletin": [Action("Territorio → un municipio", *select("Territorio"))],
        "calidad": [Action("Delito a comparar → otro", *select("Delito a comparar mes a mes"))],
    }.get(stem, [])  # datos_abiertos, metodologia: no control of their own that reruns the page
    return [opening, Action("Periodo: primer año +1 (barra lateral)", period("ArrowRight"), period("ArrowLeft")), *own]


def run_action(s: Session, stem: str, action: Action, repeat: int) -> dict[str, Any]:
    """``repeat`` timed repetitions; a repetition that fails is tried again from the page as it opens (four
    failures: the action is left unmeasured, with the reason)."""
    samples: list[tuple[float, int, int, int]] = []
    failures = 0
    row: dict[str, Any] = {"page": stem, "action": action.name}
    while len(samples) < repeat:
        try:
            sample = s.timed(action.do(s), action.need_run)
            if action.undo:  # it may also find that `do` did not do its job: the sample is not kept
                s.timed(action.undo(s))
            samples.append(sample)
        except (Skip, PlaywrightError) as exc:  # PlaywrightError includes its timeouts
            failures += 1
            reason = str(exc).splitlines()[0][:160]
            if isinstance(exc, Skip) or failures > 3:
                print(f"  {stem:15} {action.name:40} sin medir: {reason}", flush=True)
                return row | dict.fromkeys(("p50_ms", "p95_ms", "max_ms", "first_ms", "bytes", "frames")) | {"skipped": reason}
            print(f"  {stem:15} {action.name:40} fallo {failures}, se repite: {reason}", flush=True)
            s.open(stem)
    ms, received, frames, runs = (np.array(column) for column in zip(*samples))
    row |= {"p50_ms": round(np.percentile(ms, 50)), "p95_ms": round(np.percentile(ms, 95)), "max_ms": round(ms.max()),
            "first_ms": round(ms[0]), "bytes": int(np.median(received)), "frames": int(np.median(frames)),
            "first_bytes": int(received[0]), "reruns": int(np.median(runs)), "failures": failures}
    errors = s.page.locator('[data-testid="stException"]').count() + s.page.get_by_text("no pudo completarse").count()
    if errors:
        row["errors_on_page"] = errors
    print(f"  {stem:15} {action.name:40} {row['p50_ms']:6} {row['p95_ms']:6} {row['max_ms']:6} {row['first_ms']:7}      "
          f"{row['bytes'] / 1024:7.1f} {row['frames']:5} {row['reruns']:5}  {'cumple' if row['p95_ms'] <= GOAL_MS else 'no cumple'}"
          + (f"  ¡{errors} error(es) en la página!" if errors else ""), flush=True)
    return row


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0  # nothing answers there


@contextmanager
def server(warehouse: Path, mode: str, tmp: Path, password: str) -> Iterator[str]:
    """`streamlit run app.py` over ``warehouse`` in ``mode``: its URL once it answers; stopped on leaving."""
    port = next((p for p in PORTS if _free(p)), None)
    if port is None:
        raise SystemExit("No hay ningún puerto libre entre 8600 y 8699")
    extra: list[str] = []
    if mode == "interno":  # one local account, in a secrets file outside the repository
        from core import auth
        (tmp / "secrets.toml").write_text(f"[{auth.ACCOUNTS_KEY}]\n{auth.account_line(USER, password)}\n")
        extra = ["--secrets.files", str(tmp / "secrets.toml")]
    env = dict(os.environ, ATALAYA_WAREHOUSE=str(warehouse.resolve()), ATALAYA_MODO=mode)
    log_path, url = tmp / "streamlit.log", f"http://127.0.0.1:{port}"
    script = Path(sys.executable).with_name("streamlit")  # .venv/bin/streamlit
    command = [str(script)] if script.exists() else [sys.executable, "-m", "streamlit"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*command, "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
                                 "--server.headless", "true", *extra], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"streamlit no arrancó en {url}:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(warehouse: Path, mode: str = "publico", repeat: int = 10, viewport: tuple[int, int] = (1280, 800),
            pages: list[str] | None = None) -> list[dict[str, Any]]:
    """One dict per action of every page (or of ``pages``): page, action, p50_ms, p95_ms, max_ms, first_ms, bytes,
    frames, first_bytes, reruns, failures; None timings and the reason in "skipped" if it could not be measured."""
    if mode not in ("publico", "interno"):
        raise ValueError(f"modo desconocido: {mode}")
    password, rows = secrets.token_urlsafe(16), []
    with tempfile.TemporaryDirectory(prefix="atalaya-bench-") as tmp, \
            server(Path(warehouse), mode, Path(tmp), password) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="es-GT")
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(WATCH_JS)
            s = Session(context.new_page(), url, mode, password)
            if mode == "interno":
                s.open("resumen")
            print(f"  {'página':15} {'acción':40} {'p50':>6} {'p95':>6} {'máx':>6} {'1.ª vez':>7} (ms) {'kB':>7} "
                  f"{'mens.':>5} {'ejec.':>5}  objetivo", flush=True)
            for stem in pages or list(PAGES):
                rows += [run_action(s, stem, action, repeat) for action in actions(stem, mode)]
        finally:
            browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, default=ROOT / "data" / "warehouse.duckdb", help="almacén que sirve el tablero")
    parser.add_argument("--mode", choices=["publico", "interno"], default="publico")
    parser.add_argument("--repeat", type=int, default=10, help="repeticiones medidas de cada acción")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), help="solo estas páginas")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Falta Chromium en {CHROMIUM} (apt-get install chromium)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a `kill` still stops the server (finally)
    print(f"Navegador: {args.repeat} repeticiones por acción, modo {args.mode}, almacén {args.warehouse}; "
          f"objetivo p95 ≤ {GOAL_MS} ms", flush=True)
    rows = measure(args.warehouse, args.mode, args.repeat, pages=args.pages)
    measured = [r for r in rows if r["p95_ms"] is not None]
    failing = [r for r in measured if r["p95_ms"] > GOAL_MS]
    goal = "cumple" if measured and not failing else "no cumple"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "browser.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
                                                  "warehouse": str(args.warehouse), "mode": args.mode, "repeat": args.repeat,
                                                  "goal_p95_ms": GOAL_MS, "goal": goal, "results": rows}, indent=2, ensure_ascii=False))
    print(f"\nObjetivo p95 ≤ {GOAL_MS} ms: {goal} ({len(measured) - len(failing)} de {len(measured)} acciones lo "
          f"cumplen; {len(rows) - len(measured)} sin medir). Escrito en {OUT / 'browser.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
