"""Shared pieces of the nozero-bench report pages: JSON loading, figures as
embedded PNG images, number formatting and the page frame.

The pages load nothing from the network: every image is a base64 data: URI, the
style sheet is inline, and a Content-Security-Policy forbids any other source.
"""

import base64
import html
import io
import json
import math
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402  (the backend must be chosen first)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

# One colour per arm on every plot, from matplotlib's default cycle.
ARM_COLORS = {"baseline": "#1f77b4", "nozero": "#ff7f0e", "unpatched": "#2ca02c"}
OTHER_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "font.size": 9, "axes.titlesize": 10,
                     "axes.grid": True, "grid.alpha": 0.3})


def fail(message):
    """Print an error for the user and exit with the usage status."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def load_document(path, schema):
    """Read a JSON document written by nozero-bench and check its schema."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        fail(f"{path}: file not found; write it with nozero-bench report")
    except json.JSONDecodeError as error:
        fail(f"{path}: not valid JSON ({error}); write it again with nozero-bench report")
    if not isinstance(document, dict) or document.get("schema") != schema:
        fail(f"{path}: schema is not {schema}; pass the file that nozero-bench report wrote")
    if document.get("schema_version") != 1:
        fail(f"{path}: schema_version {document.get('schema_version')} is not supported (this script reads 1)")
    return document


def arm_color(arm, arms):
    if arm in ARM_COLORS:
        return ARM_COLORS[arm]
    others = [name for name in arms if name not in ARM_COLORS]
    return OTHER_COLORS[others.index(arm) % len(OTHER_COLORS)]


def figure_html(figure, plot_id, caption):
    """Render a figure as an embedded PNG inside a <figure>, and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = html.escape(caption)
    return (f'<figure class="plot" id="plot-{html.escape(plot_id)}" data-plot="{html.escape(plot_id)}">'
            f'<img src="data:image/png;base64,{data}" alt="{text}">'
            f"<figcaption>{text}</figcaption></figure>\n")


def plain_axis(axis):
    """Tick labels as plain numbers with thousands separators, never an offset or 1e6."""
    def tick(value, _position):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(tick))


def number(value, digits=5):
    """Format a value with `digits` significant digits, and large values without an exponent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def percent_change(ratio):
    if ratio is None or not math.isfinite(ratio):
        return "n/a"
    return f"{(ratio - 1) * 100:+.1f}%"


def p_value(p):
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def table_html(header, rows, css_class=""):
    """Build an HTML table. Cells are escaped unless given as ("html", markup)."""
    def cell(value):
        if isinstance(value, tuple) and value[0] == "html":
            return value[1]
        return html.escape(str(value))

    parts = [f'<table class="{css_class}"><thead><tr>']
    parts += [f"<th>{html.escape(str(name))}</th>" for name in header]
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{cell(value)}</td>" for value in row) + "</tr>")
    parts.append("</tbody></table>\n")
    return "".join(parts)


def table_markdown(header, rows):
    def cell(value):
        if isinstance(value, tuple):
            value = value[2] if len(value) > 2 else value[1]
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(name) for name in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1180px; padding: 16px 24px;
       color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 2em; }
h3 { margin-top: 1.5em; }
.meta { color: #555; }
.caveats { background: #fff6e0; border-left: 4px solid #e0a000; padding: 8px 16px; }
.warnings { background: #fdecea; border-left: 4px solid #c62828; padding: 8px 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.improved { color: #1b5e20; font-weight: 600; }
.regressed { color: #b71c1c; font-weight: 600; }
.pass { color: #1b5e20; font-weight: 600; }
.fail { color: #b71c1c; font-weight: 600; }
figure.plot { margin: 12px 0; }
figure.plot img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.85em; }
code { background: #f3f3f3; padding: 0 3px; }
"""


def page_html(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n")


def write_text(path, text):
    """Write through a temporary file and a rename, so no reader sees half a page."""
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
