"""Pictures of a journey: Mermaid flowchart text and a self-contained SVG (own layered layout). Pure."""

from __future__ import annotations

import html
import json
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


def mermaid(d: Definition, title: str | None = None) -> str:
    ids = _ids(d)
    lines = []
    if title:
        lines.append(f"---\ntitle: {title}\n---")
    lines.append("flowchart TD")
    lines.append("  start((start))")
    for name, s in d.states.items():
        label = _mm(f"{name}<br/><small>{summary(name, s)}</small>")
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


W, H, GAP_X, GAP_Y, MARGIN = 210, 46, 30, 44, 20
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


def layout(d: Definition) -> dict[str, _Box]:
    """Layers by longest path from StartAt over forward edges (back edges ignored); stable order."""
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
    for lay, names in per_layer.items():
        offset = (width - len(names)) * (W + GAP_X) / 2
        for i, n in enumerate(names):
            boxes[n] = _Box(n, lay, i, MARGIN + offset + i * (W + GAP_X), MARGIN + lay * (H + GAP_Y))
    return boxes


def svg(d: Definition, title: str | None = None) -> str:
    boxes = layout(d)
    width = max((b.x for b in boxes.values()), default=0) + W + MARGIN
    height = max((b.y for b in boxes.values()), default=0) + H + MARGIN + (24 if title else 0)
    top = 24 if title else 0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{int(height)}" '
           f'viewBox="0 0 {int(width)} {int(height)}" font-family="sans-serif" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    if title:
        out.append(f'<text x="{MARGIN}" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>')
    for e in d.edges:
        if e.source not in boxes or e.target not in boxes:
            continue
        a, b = boxes[e.source], boxes[e.target]
        x1, y1 = a.x + W / 2, a.y + H + top
        x2, y2 = b.x + W / 2, b.y + top
        if b.layer <= a.layer:  # a loop back: go round the right side
            path = f"M {x1 + W / 2} {a.y + H / 2 + top} C {x1 + W} {a.y + top}, {x2 + W} {y2 + H}, {x2 + W / 2} {b.y + H / 2 + top}"
        else:
            path = f"M {x1} {y1} C {x1} {y1 + GAP_Y / 2}, {x2} {y2 - GAP_Y / 2}, {x2} {y2}"
        dash = ' stroke-dasharray="5,3"' if e.kind == "catch" else ""
        out.append(f'<path d="{path}" fill="none" stroke="#555"{dash} marker-end="url(#arrow)"/>')
        if e.label:
            lx, ly = (x1 + x2) / 2 + 4, (y1 + y2) / 2
            out.append(f'<text x="{lx:.0f}" y="{ly:.0f}" fill="#a33" font-size="10">{html.escape(e.label[:40])}</text>')
    for name, b in boxes.items():
        s = d.states[name]
        kind = _kind(s)
        y = b.y + top
        rx = 22 if kind in ("wait", "end") else 4
        stroke = "#c00" if name == d.start else "#555"
        out.append(f'<rect x="{b.x:.0f}" y="{y:.0f}" width="{W}" height="{H}" rx="{rx}" fill="{FILL[kind]}" stroke="{stroke}"/>')
        out.append(f'<text x="{b.x + W / 2:.0f}" y="{y + 18:.0f}" text-anchor="middle" font-weight="bold">{html.escape(name[:30])}</text>')
        out.append(f'<text x="{b.x + W / 2:.0f}" y="{y + 35:.0f}" text-anchor="middle" fill="#444" font-size="11">'
                   f'{html.escape(summary(name, s)[:36])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(text: str, fmt: str, title: str | None = None) -> str:
    d = Definition.parse(text)
    if fmt == "mermaid":
        return mermaid(d, title)
    if fmt == "svg":
        return svg(d, title)
    raise ValueError(f"format: mermaid or svg, got {fmt!r}")


def to_json(text: str) -> str:  # pragma: no cover - debugging aid
    d = Definition.parse(text)
    return json.dumps({"start": d.start, "edges": [e.__dict__ for e in d.edges]}, indent=2)
