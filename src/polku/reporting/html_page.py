"""Render the static report: index.html + plotly.min.js (shipped inside the plotly
package, so the page works offline) + report.json."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from polku.reporting import charts


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def render(fig: dict, generated_at: str, pictures: list | tuple = ()) -> str:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["html", "j2"]))
    sections: dict[str, list] = {}
    for section, chart_id, figure in charts.all_charts(fig):
        html = figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{chart_id}",
                              default_width="100%", config={"displaylogo": False, "responsive": True})
        sections.setdefault(section, []).append((chart_id, html))
    t = fig["totals"]
    tiles = [
        ("messages logged", t["messages"]), ("sent", t["sent"]), ("opened", t["opened"]), ("clicked", t["clicked"]),
        ("journey runs", t["runs"]), ("enrolments", t["enrollments"]), ("purchases", t["purchases"]),
        (f"revenue ≤{fig['attribution_days']} d after a click", f"{fig['revenue_after_click']['total']:,.2f}"),
    ]
    return env.get_template("report.html.j2").render(fig=fig, sections=list(sections.items()), tiles=tiles,
                                                    pct=_pct, generated_at=generated_at, pictures=pictures)


def write(out_dir: Path, fig: dict, generated_at: str, pictures: list | tuple = ()) -> Path:
    """``pictures``: the journeys' graphs with counts (reporting.journey_pictures), also in report.json."""
    from plotly.offline import get_plotlyjs

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    (out_dir / "report.json").write_text(json.dumps({"generated_at": generated_at, **fig,
                                                     "journey_counts": {p["journey"]: p["counts"] for p in pictures}},
                                                    indent=2, sort_keys=True),
                                         encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(render(fig, generated_at, pictures), encoding="utf-8")
    return index
