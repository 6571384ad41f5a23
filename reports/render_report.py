#!/usr/bin/python3
"""Render a nozero-bench report: report.json -> report.html and report.md.

`nozero-bench report` computes every statistic and writes report.json (schema
nozero-bench/report, described in docs/reports.md); this script only draws and
lays out. It reads nothing but that file.

    /usr/bin/python3 reports/render_report.py DIR/report.json --out DIR
"""

import argparse
import html
import math
import os
import random

import nzreport
from nzreport import number, p_value, percent_change, plt

DERIVED_NOTE = "derived by nozero-bench from the run's counters"


def ordered_metrics(workload):
    """Metric names of a workload, the workload's own first, then the derived ones."""
    names = {}
    for arm in workload["arms"].values():
        for name, metric in arm["metrics"].items():
            names.setdefault(name, metric["headline"])
    return sorted(names, key=lambda name: (not names[name], name))


def verdict_cell(comparison):
    word = comparison["verdict_word"]
    css = {"improved": "improved", "regressed": "regressed"}.get(comparison["verdict"], "")
    return ("html", f'<span class="{css}">{html.escape(word)}</span>', word)


def interval_text(comparison):
    ratio = comparison["ratio"]
    if ratio["ratio"] is None:
        return "n/a"
    return f"{percent_change(ratio['low'])} to {percent_change(ratio['high'])}"


# ---------------------------------------------------------------- figures

def samples_figure(workload, measured_on):
    metrics = ordered_metrics(workload)
    arms = list(workload["arms"])
    columns = min(3, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.0 * rows), squeeze=False)
    jitter = random.Random(0)
    for index, name in enumerate(metrics):
        axis = axes[index // columns][index % columns]
        present = [arm for arm in arms if name in workload["arms"][arm]["metrics"]]
        data = [workload["arms"][arm]["metrics"][name]["values"] for arm in present]
        unit = workload["arms"][present[0]]["metrics"][name]["unit"]
        better = workload["arms"][present[0]]["metrics"][name]["better"]
        axis.boxplot(data, widths=0.5, showfliers=False, medianprops={"color": "black"})
        for position, arm in enumerate(present, start=1):
            metric = workload["arms"][arm]["metrics"][name]
            xs = [position + jitter.uniform(-0.12, 0.12) for _ in metric["values"]]
            axis.scatter(xs, metric["values"], s=14, color=nzreport.arm_color(arm, arms), zorder=3, alpha=0.85)
            for outlier in metric["outliers"]:
                axis.scatter([position], [outlier["value"]], s=80, facecolors="none", edgecolors="red", zorder=4)
        axis.set_xticks(range(1, len(present) + 1))
        axis.set_xticklabels(present)
        nzreport.plain_axis(axis.yaxis)
        axis.set_title(f"{name} ({better} is better)")
        axis.set_ylabel(f"{unit}, {measured_on}")
    for index in range(len(metrics), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    figure.tight_layout()
    return figure


def ratios_figure(comparisons, measured_on):
    labels = [f"{c['workload']} {c['metric']}\n({c['arm']} vs baseline, {c['better']} is better)"
              for c in comparisons]
    figure, axis = plt.subplots(figsize=(8.5, 0.55 * len(comparisons) + 1.2))
    for row, comparison in enumerate(comparisons):
        ratio = comparison["ratio"]
        center = (ratio["ratio"] - 1) * 100
        low = (ratio["low"] - 1) * 100
        high = (ratio["high"] - 1) * 100 if ratio["high"] is not None else center
        color = {"improved": "#1b5e20", "regressed": "#b71c1c"}.get(comparison["verdict"], "#555555")
        axis.errorbar([center], [row], xerr=[[center - low], [high - center]], fmt="o", color=color, capsize=4)
        axis.annotate(f"{center:+.1f}%  (p {p_value(comparison['mann_whitney']['p_value'])})", (high, row),
                      xytext=(6, -3), textcoords="offset points", fontsize=8)
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_yticks(range(len(comparisons)))
    axis.set_yticklabels(labels)
    axis.invert_yaxis()
    axis.set_xlabel(f"change of the median vs the baseline arm, % (95% bootstrap CI), {measured_on}")
    axis.margins(x=0.25)
    figure.tight_layout()
    return figure


def clear_page_figure(workload, measured_on):
    arms = [arm for arm, entry in workload["arms"].items() if entry.get("clear_page")]
    figure, axes = plt.subplots(1, 2, figsize=(9.5, 3.0))
    panels = [("hits", "clear_page calls per run", 1.0), ("total_us", "clear_page time per run, ms", 1e-3)]
    for axis, (key, title, scale) in zip(axes, panels):
        for position, arm in enumerate(arms):
            values = [value * scale for value in workload["arms"][arm]["clear_page"][key]]
            middle = sorted(values)[len(values) // 2]
            axis.bar([position], [middle], color=nzreport.arm_color(arm, list(workload["arms"])), alpha=0.75)
            axis.scatter([position] * len(values), values, s=10, color="black", zorder=3)
        axis.set_xticks(range(len(arms)))
        axis.set_xticklabels(arms)
        nzreport.plain_axis(axis.yaxis)
        axis.set_title(f"{title} ({measured_on})")
    figure.tight_layout()
    return figure


def symbol_rows(workload, limit=10):
    """The symbols with the largest share in any arm, and each arm's share."""
    shares = {}
    dsos = {}
    arms = [arm for arm, entry in workload["arms"].items() if entry.get("perf")]
    for arm in arms:
        for entry in workload["arms"][arm]["perf"]["top_symbols"]:
            shares.setdefault(entry["symbol"], {})[arm] = entry["share"]
            dsos[entry["symbol"]] = entry["dso"]
    ranked = sorted(shares, key=lambda symbol: -max(shares[symbol].values()))[:limit]
    return arms, [(symbol, dsos[symbol], [shares[symbol].get(arm) for arm in arms]) for symbol in ranked]


def symbols_figure(workload, measured_on):
    arms, rows = symbol_rows(workload)
    figure, axes = plt.subplots(1, len(arms), figsize=(3.6 * len(arms) + 2.2, 0.32 * len(rows) + 1.3),
                                sharey=True, squeeze=False)
    top = max((share or 0) for _, _, values in rows for share in values) * 100
    for column, arm in enumerate(arms):
        axis = axes[0][column]
        values = [(shares[column] or 0) * 100 for _, _, shares in rows]
        axis.barh(range(len(rows)), values, color=nzreport.arm_color(arm, list(workload["arms"])))
        for row, value in enumerate(values):
            axis.text(value, row, f" {value:.1f}%", va="center", fontsize=7)
        axis.set_xlim(0, top * 1.25)
        axis.set_title(f"{arm}")
        axis.set_xlabel("share of samples, %")
    axes[0][0].set_yticks(range(len(rows)))
    axes[0][0].set_yticklabels([symbol for symbol, _, _ in rows])
    axes[0][0].invert_yaxis()
    event = next(workload["arms"][arm]["perf"]["event"] for arm in arms)
    figure.suptitle(f"top symbols of {event} samples, mean over runs ({measured_on})", fontsize=10)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- tables

def headline_rows(report):
    rows = []
    for workload in report["workloads"]:
        for comparison in workload["comparisons"]:
            if not comparison["headline"]:
                continue
            rows.append([workload["name"], comparison["metric"], f"{comparison['arm']} vs baseline",
                         f"{number(comparison['baseline']['median'])} {comparison['unit']}",
                         f"{number(comparison['candidate']['median'])} {comparison['unit']}",
                         percent_change(comparison["ratio"]["ratio"]), interval_text(comparison),
                         p_value(comparison["mann_whitney"]["p_value"]), verdict_cell(comparison)])
    return rows


def headline_header(measured_on):
    return ["workload", "metric", "arms", f"baseline median ({measured_on})", f"arm median ({measured_on})",
            "change", "95% CI", "p", "verdict"]


def arm_summary_rows(workload):
    rows = []
    for name in ordered_metrics(workload):
        for arm, entry in workload["arms"].items():
            metric = entry["metrics"].get(name)
            if metric is None:
                continue
            summary = metric["summary"]
            outliers = ", ".join(f"rep {o['repetition']} ({number(o['value'])}, z {o['z']:.1f})"
                                 for o in metric["outliers"]) or "none"
            cv = "n/a" if summary["cv"] is None else f"{summary['cv'] * 100:.1f}%"
            label = name if metric["headline"] else f"{name} *"
            rows.append([label, arm, metric["unit"], summary["n"], number(summary["median"]),
                         number(summary["mean"]), number(summary["stddev"]), cv, number(summary["min"]),
                         number(summary["max"]), outliers])
    return rows


def arm_summary_header(measured_on):
    return ["metric", "arm", "unit", "n", f"median ({measured_on})", "mean", "stddev", "CV", "min", "max",
            "outliers (modified z > 3.5)"]


def comparison_rows(workload):
    rows = []
    for comparison in workload["comparisons"]:
        test = comparison["mann_whitney"]
        rows.append([comparison["metric"] if comparison["headline"] else f"{comparison['metric']} *",
                     f"{comparison['arm']} vs baseline", percent_change(comparison["ratio"]["ratio"]),
                     interval_text(comparison), f"{p_value(test['p_value'])} ({test['method']})",
                     f"{number(comparison['hodges_lehmann_shift'])} {comparison['unit']}", verdict_cell(comparison)])
    return rows


COMPARISON_HEADER = ["metric", "arms", "change of median", "95% CI", "Mann-Whitney p", "Hodges-Lehmann shift",
                     "verdict"]


def clear_page_rows(workload):
    rows = []
    for arm, entry in workload["arms"].items():
        block = entry.get("clear_page")
        if not block:
            continue
        for function, values in block["functions"].items():
            rows.append([arm, function, number(values["hits_median"]), number(values["total_us_median"] / 1000)])
    return rows


def reuse_rows(workload):
    rows = []
    for arm, entry in workload["arms"].items():
        vmstat = entry.get("vmstat_delta") or {}
        counters = ["nozero_free", "nozero_reuse", "nozero_clear", "nozero_thp_reuse", "nozero_thp_clear"]
        if not any(name in vmstat for name in counters):
            continue
        reused = (vmstat.get("nozero_reuse") or {}).get("median", 0)
        cleared = (vmstat.get("nozero_clear") or {}).get("median", 0)
        rate = f"{reused / (reused + cleared) * 100:.1f}%" if reused + cleared > 0 else "n/a (not requested)"
        rows.append([arm] + [number((vmstat.get(name) or {}).get("median")) if name in vmstat else "-"
                             for name in counters] + [rate])
    return rows


REUSE_HEADER = ["arm", "nozero_free", "nozero_reuse", "nozero_clear", "nozero_thp_reuse", "nozero_thp_clear",
                "reused rate"]


def leak_rows(workload):
    rows = []
    for arm, entry in workload["arms"].items():
        check = entry.get("leak_check")
        if not check:
            continue
        verdict = ("html", '<span class="pass">PASS</span>', "PASS") if check["passed"] else \
            ("html", '<span class="fail">FAIL: pages not zeroed</span>', "FAIL")
        rows.append([arm, check["tool"], check["runs"], number(check["pages_scanned"]),
                     number(check["nonzero_pages"]), verdict])
    return rows


LEAK_HEADER = ["arm", "tool", "runs", "pages scanned", "pages not zero", "result"]


def projection_tables(projection):
    """(inputs rows, workload header, workload rows) of an available projection."""
    inputs = [[key, value] for key, value in projection.items()
              if not isinstance(value, (dict, list)) and key not in ("kind", "available")]
    workloads = projection.get("workloads") or []
    header = ["workload"] if workloads else []
    for entry in workloads:
        header += [key for key in entry if key not in header]
    rows = [[number(entry[key]) if isinstance(entry.get(key), float) else entry.get(key, "") for key in header]
            for entry in workloads]
    return inputs, header, rows


# ---------------------------------------------------------------- page

class Page:
    """Builds the HTML body and the Markdown text side by side."""

    def __init__(self):
        self.html = []
        self.markdown = []

    def heading(self, level, text, anchor=None):
        anchor_attribute = f' id="{html.escape(anchor)}"' if anchor else ""
        self.html.append(f"<h{level}{anchor_attribute}>{html.escape(text)}</h{level}>\n")
        self.markdown.append(f"\n{'#' * level} {text}\n")

    def paragraph(self, text, css_class=None):
        attribute = f' class="{css_class}"' if css_class else ""
        self.html.append(f"<p{attribute}>{html.escape(text)}</p>\n")
        self.markdown.append(f"\n{text}\n")

    def bullets(self, items, css_class):
        self.html.append(f'<div class="{css_class}"><ul>' +
                         "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul></div>\n")
        self.markdown.append("\n" + "".join(f"- {item}\n" for item in items))

    def table(self, header, rows):
        self.html.append(nzreport.table_html(header, rows))
        self.markdown.append("\n" + nzreport.table_markdown(header, rows))

    def figure(self, figure, plot_id, caption):
        self.html.append(nzreport.figure_html(figure, plot_id, caption))


def render(report):
    measured_on = report["measured_on"]
    page = Page()
    title = f"nozero-bench report, {report['created_at'] or 'undated'}"
    page.heading(1, title)
    page.paragraph(f"Measured on: {measured_on}. Guest kernel {report['kernel_release'] or 'not recorded'}, "
                   f"accelerator {report['accelerator'] or 'not recorded'}. Results created {report['created_at']}, "
                   f"report generated {report['generated_at']}.", "meta")

    page.heading(2, "Caveats", "caveats")
    page.bullets(report["caveats"], "caveats")
    if report["warnings"]:
        page.heading(2, "Warnings", "warnings")
        page.bullets(report["warnings"], "warnings")

    page.heading(2, "Summary", "summary")
    page.paragraph("Each arm against the baseline arm (MAP_NOZERO not requested on the patched kernel), for the "
                   "metrics the workloads report. Change is median(arm) / median(baseline) - 1; the interval is "
                   "a 95% percentile bootstrap; p is a two-sided Mann-Whitney U test.")
    rows = headline_rows(report)
    page.table(headline_header(measured_on), rows)
    headline = [c for w in report["workloads"] for c in w["comparisons"]
                if c["headline"] and c["ratio"]["ratio"] is not None]
    if headline:
        page.figure(ratios_figure(headline, measured_on), "ratios",
                    f"Change of each arm against the baseline arm with its 95% bootstrap CI ({measured_on}).")

    for workload in report["workloads"]:
        name = workload["name"]
        page.heading(2, f"Workload {name}", f"workload-{name}")
        page.heading(3, "Samples")
        page.figure(samples_figure(workload, measured_on), f"samples-{name}",
                    f"Every repetition of every metric per arm: box of quartiles, one dot per repetition, "
                    f"outliers circled in red ({measured_on}).")
        page.table(arm_summary_header(measured_on), arm_summary_rows(workload))
        page.paragraph(f"* {DERIVED_NOTE}.")
        if workload["comparisons"]:
            page.heading(3, "Arms against baseline")
            page.table(COMPARISON_HEADER, comparison_rows(workload))

        if any(entry.get("clear_page") for entry in workload["arms"].values()):
            page.heading(3, "clear_page")
            source = next(e["clear_page"]["source"] for e in workload["arms"].values() if e.get("clear_page"))
            page.figure(clear_page_figure(workload, measured_on), f"clear-page-{name}",
                        f"clear_page calls and time per run, per arm; bar at the median ({source}, {measured_on}).")
            page.table(["arm", "function", "calls (median)", f"time, ms (median, {measured_on})"],
                       clear_page_rows(workload))

        if any(entry.get("perf") for entry in workload["arms"].values()):
            page.heading(3, "Top kernel and user symbols")
            page.figure(symbols_figure(workload, measured_on), f"symbols-{name}",
                        f"Share of profile samples per symbol, arms side by side ({measured_on}).")
            arms, symbol_table = symbol_rows(workload)
            page.table(["symbol", "dso"] + [f"{arm} share" for arm in arms],
                       [[symbol, dso] + [f"{share * 100:.1f}%" if share is not None else "-" for share in shares]
                        for symbol, dso, shares in symbol_table])

        reuse = reuse_rows(workload)
        page.heading(3, "Reused pages")
        if reuse:
            page.paragraph("Medians per run of the series' vmstat counters. The reused rate is nozero_reuse / "
                           "(nozero_reuse + nozero_clear): the share of faults in MAP_NOZERO mappings that "
                           "skipped clear_page.")
            page.table(REUSE_HEADER, reuse)
        else:
            page.paragraph("No nozero_* vmstat counters in these runs: the kernel did not expose them.")

        leaks = leak_rows(workload)
        page.heading(3, "Leak check")
        if leaks:
            page.table(LEAK_HEADER, leaks)
        else:
            page.paragraph("No leak check ran with this workload.")

    projection = report.get("projection")
    page.heading(2, "Projection to hardware", "projection")
    if projection and projection.get("available", True):
        inputs, header, rows = projection_tables(projection)
        page.paragraph("An estimate, not a measurement: these are its inputs and per-workload results.")
        page.table(["input", "value"], inputs)
        if rows:
            page.table(header, rows)
    else:
        reason = (projection or {}).get("reason", "the results carry no projection")
        page.paragraph(f"No projection: {reason}.")

    page.heading(2, "Setup", "setup")
    page.table(["setting", "value"], [[row["name"], row["value"]] for row in report["setup"]])
    page.heading(2, "Method and sources", "method")
    statistics = report["statistics"]
    page.bullets([f"Test: {statistics['test']}; significance at p < {statistics['alpha']}.",
                  f"Interval: {statistics['interval']}.",
                  f"Outliers: {statistics['outliers']}.",
                  f"Warning when the coefficient of variation exceeds {statistics['cv_warning'] * 100:.0f}%."]
                 + [f"Source: {source['path']} (created {source['created_at']}, measured on "
                    f"{source['measured_on']})" for source in report["sources"]], "method")
    return title, page


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="report.json written by nozero-bench report")
    parser.add_argument("--out", required=True, help="directory to write report.html and report.md to")
    arguments = parser.parse_args()

    report = nzreport.load_document(arguments.report, "nozero-bench/report")
    title, page = render(report)
    nzreport.write_text(os.path.join(arguments.out, "report.html"), nzreport.page_html(title, "".join(page.html)))
    markdown = "".join(page.markdown).lstrip() + "\nPlots: see report.html next to this file.\n"
    nzreport.write_text(os.path.join(arguments.out, "report.md"), markdown)


if __name__ == "__main__":
    main()
