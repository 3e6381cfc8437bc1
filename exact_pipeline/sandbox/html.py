"""Server-rendered HTML: one layout and stylesheet for the consent page and the human pages."""

from __future__ import annotations

from html import escape

CSS = """
:root { --ink:#1d2433; --muted:#6b7385; --line:#e3e6ee; --brand:#e3001b; --ok:#147a3d;
        --warn:#a15c00; --bg:#f6f7fa; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink);
       background:var(--bg); }
header { background:#fff; border-bottom:3px solid var(--brand); padding:12px 24px; display:flex;
         gap:24px; align-items:baseline; }
header b { font-size:18px; } header a { color:var(--ink); text-decoration:none; }
header .tag { color:var(--muted); }
main { padding:16px 24px 48px; max-width:1280px; }
h1 { font-size:20px; margin:8px 0 16px; } h2 { font-size:16px; margin:28px 0 8px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px;
        min-width:150px; }
.card .n { font-size:22px; font-weight:600; } .card .l { color:var(--muted); }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line);
         vertical-align:top; }
th { background:#fafbfd; color:var(--muted); font-weight:600; font-size:12px;
     text-transform:uppercase; letter-spacing:.03em; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.sub td { background:#fbfbfd; color:var(--muted); font-size:13px; }
.pill { display:inline-block; border-radius:10px; padding:0 8px; font-size:12px; }
.paid { background:#e3f5ea; color:var(--ok); } .open { background:#fff1dc; color:var(--warn); }
.muted { color:var(--muted); } a { color:#0b5cad; }
form.consent { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px;
               max-width:520px; }
form.consent label { display:block; margin:6px 0; }
button { font:inherit; padding:6px 16px; border-radius:6px; border:1px solid var(--line);
         background:#fff; cursor:pointer; }
button.primary { background:var(--brand); border-color:var(--brand); color:#fff; }
.error { color:var(--brand); }
"""


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def layout(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        "<header><a href='/'><b>Exact Online</b></a>"
        "<span class='tag'>sandbox: a local stand-in for the real service</span></header>"
        f"<main>{body}</main></body></html>"
    )


def table(headers: list[str], rows: list[str], numeric: set[int] | None = None) -> str:
    """`rows` are ready-made `<tr>` strings (callers escape their cells with `e`)."""
    numeric = numeric or set()
    head = "".join(
        f"<th{' class=num' if i in numeric else ''}>{e(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(rows) or f"<tr><td colspan='{len(headers)}' class='muted'>none</td></tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
