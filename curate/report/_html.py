"""Render a report structure as one self-contained HTML file.

Everything the page needs is inside it: CSS inline (screen and print media), plots embedded
as base64 PNG ``data:`` URIs, no scripts, fonts or other network requests. The page reads
the report's :func:`~curate.report._build.layout`, so it shows exactly the numbers of the
JSON and Markdown renderings.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from curate.report._build import layout

__all__ = ["render_html"]

_CSS = """
:root { --fg:#1d2430; --muted:#5b6574; --line:#d9dee5; --accent:#3b6ea8; --bad:#b3261e;
        --ok:#2e7d4f; --warn:#a86400; --bg:#ffffff; --panel:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header .meta { color: var(--muted); margin: 0 0 18px; font-size: 13px; }
section { margin: 28px 0; }
h2 { font-size: 19px; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 10px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
        padding: 10px 12px; }
.card .value { font-size: 20px; font-weight: 600; overflow-wrap: anywhere; }
.card .label { color: var(--muted); font-size: 12.5px; }
ul.advice { list-style: none; padding: 0; margin: 0; }
ul.advice li { padding: 8px 12px; margin: 6px 0; border-left: 4px solid var(--accent);
               background: var(--panel); border-radius: 4px; }
ul.advice li.warning, ul.advice li.high { border-left-color: var(--warn); }
ul.advice li.error, ul.advice li.critical { border-left-color: var(--bad); }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11px; margin-right: 8px;
       color: var(--muted); }
figure { margin: 10px 0 14px; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--line);
             border-radius: 6px; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0; min-width: 40%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: var(--panel); font-weight: 600; }
tr.others td { color: var(--muted); font-style: italic; }
p.note, .tnote { color: var(--muted); font-size: 12.5px; }
.banner { padding: 14px 18px; border-radius: 8px; font-size: 17px; font-weight: 600;
          border: 2px solid var(--ok); background: #eef8f1; }
.banner.flagged { border-color: var(--bad); background: #fdeeee; }
.banner ul { font-size: 14px; font-weight: 400; margin: 8px 0 0; }
.noplots { color: var(--muted); font-style: italic; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section { break-inside: avoid-page; }
  figure, table, .card, .banner { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(block: Mapping[str, Any]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in block["columns"])
    body = []
    for row in block["rows"]:
        cls = ' class="others"' if row and row[0].startswith("… ") else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>")
    note = f'<p class="tnote">{_e(block["note"])}</p>' if block["note"] else ""
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{note}')


def _block(block: Mapping[str, Any], images: Mapping[str, bytes] | None) -> str:
    kind = block["type"]
    if kind == "cards":
        return '<div class="cards">' + "".join(
            f'<div class="card"><div class="value">{_e(v)}</div>'
            f'<div class="label">{_e(k)}</div></div>' for k, v in block["items"]) + "</div>"
    if kind == "table":
        return _table(block)
    if kind == "text":
        cls = f' class="{_e(block["style"])}"' if block["style"] else ""
        return f"<p{cls}>{_e(block['text'])}</p>"
    if kind == "list":
        return '<ul class="advice">' + "".join(
            f'<li class="{_e(sev)}"><span class="sev">{_e(sev)}</span>{_e(msg)}</li>'
            for sev, msg in block["items"]) + "</ul>"
    if kind == "banner":
        cls = "banner flagged" if block["flagged"] else "banner"
        reasons = "".join(f"<li>{_e(r)}</li>" for r in block["reasons"])
        return (f'<div class="{cls}" role="status">{_e(block["text"])}'
                + (f"<ul>{reasons}</ul>" if reasons else "") + "</div>")
    if kind == "plot":
        if images is None:
            return ""
        png = images.get(block["name"])
        if png is None:
            return ""
        b64 = base64.b64encode(png).decode("ascii")
        return (f'<figure data-plot="{_e(block["name"])}"><img alt="{_e(block["alt"])}" '
                f'src="data:image/png;base64,{b64}"><figcaption>{_e(block["alt"])}'
                "</figcaption></figure>")
    raise ValueError(f"unknown block type {kind!r}")  # pragma: no cover


def render_html(data: Mapping[str, Any], images: Mapping[str, bytes] | None) -> str:
    """Return the report as one HTML document; ``images=None`` leaves the plots out.

    Examples
    --------
    >>> import curate
    >>> from curate.report import dataset_report
    >>> t = curate.LabelTable.from_labels([["cat", "dog"], ["cat"]])
    >>> page = render_html(dataset_report(t).data, images=None)
    >>> page.startswith("<!DOCTYPE html>"), 'id="headline"' in page
    (True, True)
    """
    parts = []
    for sec in layout(data):
        inner = "".join(_block(b, images) for b in sec["blocks"])
        parts.append(f'<section id="{_e(sec["id"])}"><h2>{_e(sec["title"])}</h2>{inner}</section>')
    meta = f"curate {data['curate_version']} · report schema {data['schema_version']}"
    if data["kind"] == "dataset":
        meta += f" · counting {data['level']}s"
    if images is None:
        meta += " · plots omitted"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(data['title'])}</title><style>{_CSS}</style></head>"
        f'<body><main><header><h1>{_e(data["title"])}</h1><p class="meta">{_e(meta)}</p>'
        f'</header>{"".join(parts)}</main></body></html>\n'
    )
