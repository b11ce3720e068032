"""Pictures of a journey: Mermaid flowchart text and a self-contained SVG (own layered layout). Pure."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

from polku.journeys.definition import Definition

RESOURCE_KIND = {
    "${SendFunctionArn}": "send",
    "${JourneyStepFunctionArn}": "step",
    "${OfferFunctionArn}": "offer",
}


def summary(name: str, s: dict) -> str:
    """One line saying what a state does, for marketers."""
    t = s.get("Type")
    p = s.get("Parameters") or {}
    if t == "Wait":
        if "Seconds" in s:
            return "wait " + human_seconds(s["Seconds"])
        return "wait until " + str(s.get("SecondsPath") or s.get("TimestampPath") or s.get("Timestamp"))
    if t == "Task":
        res = str(s.get("Resource", ""))
        if res.endswith(".waitForTaskToken"):
            payload = p.get("Payload") or {}
            ev = payload.get("event_type", "?")
            where = payload.get("where") or {}
            if where:
                ev += " " + ", ".join(f"{k.removeprefix('properties.')}={v}" for k, v in where.items())
            return f"wait for {ev} up to {human_seconds(s.get('TimeoutSeconds', 0))}"
        kind = RESOURCE_KIND.get(res)
        if kind == "send":
            recs = p.get("recommend") or p.get("recommendations")
            extra = f" + {recs.get('strategy')}" if isinstance(recs, dict) else ""
            stage = (p.get("context") or {}).get("stage")
            stage = f" ({stage})" if stage and stage != "main" else ""
            offer = " + offer" if "offer.$" in p or "offer" in p else ""
            return f"send {p.get('template')}{stage}{extra}{offer}"
        if kind == "offer":
            offer = p.get("offer") or {}
            if p.get("action") == "grant":
                return f"grant {offer.get('code')} {offer.get('discount_percent')}% for {offer.get('valid_hours')} h"
            return "revoke offer"
        if kind == "step":
            action = p.get("action")
            if action == "exit":
                return f"exit: {p.get('reason', 'completed')}"
            if action == "event_since":
                return f"did {p.get('event_type')} happen?"
            if action == "score_gate":
                return f"lead score >= {p.get('threshold')}?"
            if action == "record":
                return f"record {p.get('type')}"
            return str(action)
        return "task"
    if t == "Choice":
        return "choice"
    return str(t).lower()


def human_seconds(sec) -> str:
    try:
        sec = int(sec)
    except (TypeError, ValueError):
        return str(sec)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if sec >= size and sec % size == 0:
            return f"{sec // size} {unit}"
    return f"{sec} s"


def _ids(d: Definition) -> dict[str, str]:
    return {name: f"s{i}" for i, name in enumerate(d.states)}


def count_lines(name: str, counts) -> list[str]:
    """What a state's box says about its customers (``counts``: :class:`polku.journeys.counts.JourneyCounts`,
    or None for none): passed / here now, who left from here and why, a Send's sent and rates."""
    if counts is None or name not in counts.states:
        return []
    c = counts.states[name]
    lines = [f"passed {c.passed} · here now {c.here}"]
    if c.left:
        from polku.journeys.counts import LEFT_GROUPS

        lines.append("left: " + ", ".join(f"{g} {c.left[g]}" for g in LEFT_GROUPS if c.left.get(g)))
    if c.sent is not None:
        rates = f" · open {_pct(c.open_rate)} · click {_pct(c.click_rate)}" if c.sent else ""
        lines.append(f"sent {c.sent}{rates}" + (f" · not sent {c.not_sent}" if c.not_sent else ""))
    return lines


def _pct(rate) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def mermaid(d: Definition, title: str | None = None, counts=None) -> str:
    ids = _ids(d)
    lines = []
    if title:
        lines.append(f"---\ntitle: {title}\n---")
    lines.append("flowchart TD")
    lines.append("  start((start))")
    for name, s in d.states.items():
        label = _mm(f"{name}<br/><small>{summary(name, s)}</small>"
                    + "".join(f"<br/><small><b>{line}</b></small>" for line in count_lines(name, counts)))
        t = s.get("Type")
        if t == "Choice":
            lines.append(f'  {ids[name]}{{"{label}"}}')
        elif t == "Wait" or str(s.get("Resource", "")).endswith(".waitForTaskToken"):
            lines.append(f'  {ids[name]}(["{label}"])')
        elif t in ("Succeed", "Fail"):
            lines.append(f'  {ids[name]}(("{label}"))')
        else:
            lines.append(f'  {ids[name]}["{label}"]')
    lines.append("  stop((end))")
    if d.start in ids:
        lines.append(f"  start --> {ids[d.start]}")
    for e in d.edges:
        if e.target not in ids:
            continue
        arrow = "-.->" if e.kind == "catch" else "-->"
        lines.append(f"  {ids[e.source]} {arrow}" + (f"|{_mm(e.label)}|" if e.label else "") + f" {ids[e.target]}")
    for name in d.states:
        if d.is_terminal(name):
            lines.append(f"  {ids[name]} --> stop")
    for name, s in d.states.items():
        kind = RESOURCE_KIND.get(str(s.get("Resource", "")))
        if kind:
            lines.append(f"  class {ids[name]} {kind}")
    lines.append("  classDef send fill:#e8f1ff,stroke:#2f6fd6")
    lines.append("  classDef offer fill:#fff3e0,stroke:#e08a00")
    lines.append("  classDef step fill:#f2f2f2,stroke:#777")
    return "\n".join(lines) + "\n"


def _mm(text: str) -> str:
    return text.replace('"', "#quot;")


# ---------------------------------------------------------------- SVG
@dataclass
class _Box:
    name: str
    layer: int
    order: int
    x: float = 0
    y: float = 0
    h: float = 0  # height: grows with the lines of its label
    lines: tuple = ()  # (name lines, summary lines, count lines)


W, H, GAP_X, GAP_Y, MARGIN = 210, 46, 30, 44, 20
LINE, PAD = 14, 9  # label line height and the box's top/bottom padding
LANE = 14  # spacing of the loop-back lanes right of the boxes
# Approximate advance widths of the sans-serif font (px per character): a label is wrapped to
# the box so no text is cut or runs out of it; the canvas is sized with the same measures.
CHAR_W = {"name": 7.4, "summary": 6.4, "counts": 6.4, "edge": 5.8}
FILL = {"send": "#e8f1ff", "offer": "#fff3e0", "step": "#f2f2f2", "wait": "#eef8ee", "choice": "#fdf7d9", "end": "#eeeeee"}


def _kind(s: dict) -> str:
    t = s.get("Type")
    if t == "Choice":
        return "choice"
    if t == "Wait" or str(s.get("Resource", "")).endswith(".waitForTaskToken"):
        return "wait"
    if t in ("Succeed", "Fail"):
        return "end"
    return RESOURCE_KIND.get(str(s.get("Resource", "")), "step")


def wrap(text: str, width: float, char_w: float) -> list[str]:
    """``text`` in lines of at most ``width`` px (words kept whole; a word longer than a line is
    broken at ``_`` or split)."""
    per_line = max(4, int(width // char_w))
    words: list[str] = []
    text = _UNIT.sub("\\1\x00\\2", text)  # "7 d" stays on one line
    for word in text.split():
        while len(word) > per_line:
            cut = word.rfind("_", 1, per_line) + 1 or per_line
            words.append(word[:cut])
            word = word[cut:]
        words.append(word)
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= per_line and not lines[-1].endswith("_"):
            lines[-1] += " " + word
        elif lines and lines[-1].endswith("_") and len(lines[-1]) + len(word) <= per_line:
            lines[-1] += word
        else:
            lines.append(word)
    return [line.replace("\x00", " ") for line in lines] or [""]


_UNIT = re.compile(r"(\d) (d|h|min|s)\b")


def _label_lines(name: str, s: dict, counts=None) -> tuple[list[str], list[str], list[str]]:
    inner = W - 2 * 6
    return (wrap(name, inner, CHAR_W["name"]), wrap(summary(name, s), inner, CHAR_W["summary"]),
            [part for line in count_lines(name, counts) for part in wrap(_phrases(line), inner, CHAR_W["counts"])])


def _phrases(line: str) -> str:
    """A count line whose phrases ("here now 3", "goal 2") stay whole when it is wrapped."""
    return line.replace(" ", "\x00").replace("\x00·\x00", "\x00· ").replace(",\x00", ", ")


def _height(lines: tuple) -> float:
    return max(H, 2 * PAD + LINE * sum(len(group) for group in lines))


def layout(d: Definition, counts=None) -> dict[str, _Box]:
    """Layers by longest path from StartAt over forward edges (back edges ignored); stable order.
    Each box is as tall as its wrapped label; a layer as tall as its tallest box."""
    order = d.reachable() + [n for n in d.states if n not in set(d.reachable())]
    index = {n: i for i, n in enumerate(order)}
    layer = {n: 0 for n in order}
    forward = [(e.source, e.target) for e in d.edges if e.target in index and index[e.target] > index[e.source]]
    for _ in range(len(order)):
        changed = False
        for a, b in forward:
            if layer[b] < layer[a] + 1:
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    boxes: dict[str, _Box] = {}
    per_layer: dict[int, list[str]] = {}
    for n in order:
        per_layer.setdefault(layer[n], []).append(n)
    width = max(len(v) for v in per_layer.values()) if per_layer else 1
    y = MARGIN
    for lay in sorted(per_layer):
        names = per_layer[lay]
        offset = (width - len(names)) * (W + GAP_X) / 2
        labels = {n: _label_lines(n, d.states[n], counts) for n in names}
        tallest = max(_height(lines) for lines in labels.values())
        for i, n in enumerate(names):
            h = _height(labels[n])
            boxes[n] = _Box(n, lay, i, MARGIN + offset + i * (W + GAP_X), y + (tallest - h) / 2, h, labels[n])
        y += tallest + GAP_Y
    return boxes


def svg(d: Definition, title: str | None = None, counts=None, marker: str = "arrow") -> str:
    """A self-contained SVG: every label whole (wrapped inside its box), every edge inside the
    canvas (loops back go up a lane of their own right of the boxes). With ``counts``
    (:class:`polku.journeys.counts.JourneyCounts`) every box also says how many customers passed,
    stand there now and left, and every Send its open and click rates. ``marker``: the arrow head's
    id (unique per picture when several share one page)."""
    boxes = layout(d, counts)
    top = 24 if title else 0
    right = max((b.x + W for b in boxes.values()), default=MARGIN)
    edges = [e for e in d.edges if e.source in boxes and e.target in boxes]
    back = [e for e in edges if boxes[e.target].layer <= boxes[e.source].layer]
    paths, labels = [], []
    extent_x = right
    extent_y = 0.0
    bottom: dict[int, float] = {}
    top_of: dict[int, float] = {}
    for b in boxes.values():
        bottom[b.layer] = max(bottom.get(b.layer, 0), b.y + b.h)
        top_of[b.layer] = min(top_of.get(b.layer, b.y), b.y)
    for e in edges:
        a, b = boxes[e.source], boxes[e.target]
        if e in back:
            # A loop back runs only through the gaps between layers and its own lane right of the
            # boxes: down out of the source, right under its layer, up the lane, left above the
            # target's layer and down into the target. It crosses no box.
            k = back.index(e)
            lane = right + LANE * (k + 1)
            shift = 3 * (k % 4)
            x1, x2 = a.x + W * 0.75, b.x + W * 0.75
            below = bottom[a.layer] + GAP_Y / 2 + shift + top
            above = top_of[b.layer] - GAP_Y / 2 + shift + top
            path = (f"M {x1} {a.y + a.h + top} L {x1} {below} L {lane} {below} L {lane} {above} "
                    f"L {x2} {above} L {x2} {b.y + top}")
            lx, ly = x1 + 4, below - 3
            extent_x = max(extent_x, lane)
            extent_y = max(extent_y, below)
        else:
            x1, y1 = a.x + W / 2, a.y + a.h + top
            x2, y2 = b.x + W / 2, b.y + top
            mid = (y1 + y2) / 2
            path = f"M {x1} {y1} C {x1} {mid}, {x2} {mid}, {x2} {y2}"
            lx, ly = x2 + 4, y2 - 5  # beside the arrow head: labels of one choice do not overlap
        dash = ' stroke-dasharray="5,3"' if e.kind == "catch" else ""
        paths.append(f'<path d="{path}" fill="none" stroke="#555"{dash} marker-end="url(#{marker})"/>')
        if e.label:
            labels.append(f'<text x="{lx:.0f}" y="{ly:.0f}" fill="#a33" font-size="10">{html.escape(e.label)}</text>')
            extent_x = max(extent_x, lx + len(e.label) * CHAR_W["edge"])
    title_w = MARGIN + len(title or "") * 8.5
    width = int(max(extent_x, title_w) + MARGIN + 1)
    height = int(max(max((b.y + b.h + top for b in boxes.values()), default=0), extent_y) + MARGIN + 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    if title:
        out.append(f'<text x="{MARGIN}" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>')
    out.extend(paths)
    out.extend(labels)
    for name, b in boxes.items():
        s = d.states[name]
        kind = _kind(s)
        y = b.y + top
        rx = 22 if kind in ("wait", "end") else 4
        stroke = "#c00" if name == d.start else "#555"
        out.append(f'<rect x="{b.x:.0f}" y="{y:.0f}" width="{W}" height="{b.h:.0f}" rx="{rx}" fill="{FILL[kind]}" stroke="{stroke}"/>')
        name_lines, summary_lines, numbers = b.lines
        ty = y + PAD + 11
        for line in name_lines:
            out.append(f'<text x="{b.x + W / 2:.0f}" y="{ty:.0f}" text-anchor="middle" font-weight="bold">{html.escape(line)}</text>')
            ty += LINE
        for line in summary_lines:
            out.append(f'<text x="{b.x + W / 2:.0f}" y="{ty:.0f}" text-anchor="middle" fill="#444" font-size="11">'
                       f'{html.escape(line)}</text>')
            ty += LINE
        for line in numbers:
            out.append(f'<text x="{b.x + W / 2:.0f}" y="{ty:.0f}" text-anchor="middle" fill="#0b6e4f" font-size="11" '
                       f'class="counts">{html.escape(line)}</text>')
            ty += LINE
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(text: str, fmt: str, title: str | None = None, counts=None) -> str:
    d = Definition.parse(text)
    if fmt == "mermaid":
        return mermaid(d, title, counts)
    if fmt == "svg":
        return svg(d, title, counts)
    raise ValueError(f"format: mermaid or svg, got {fmt!r}")


def to_json(text: str) -> str:  # pragma: no cover - debugging aid
    d = Definition.parse(text)
    return json.dumps({"start": d.start, "edges": [e.__dict__ for e in d.edges]}, indent=2)
