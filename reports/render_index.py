#!/usr/bin/python3
"""Render the index of a directory of nozero-bench reports: index.json -> index.html.

`nozero-bench report --index DIR` writes DIR/index.json (schema
nozero-bench/report-index) from every DIR/NAME/report.json, newest first. This
script links every report and draws the trend of each headline metric across
them. It reads nothing but index.json.

    /usr/bin/python3 reports/render_index.py DIR/index.json --out DIR
"""

import argparse
import html
import os

import nzreport
from nzreport import p_value, percent_change, plt


def trend_series(reports):
    """(workload, metric) -> arm -> list of (report index, headline entry), oldest first."""
    series = {}
    chronological = list(reversed(reports))
    for position, report in enumerate(chronological):
        for entry in report["headline"]:
            key = (entry["workload"], entry["metric"])
            series.setdefault(key, {}).setdefault(entry["arm"], []).append((position, entry))
    return chronological, series


def trend_figure(key, arms, chronological):
    workload, metric = key
    labels = [report["created_at"][:16].replace("T", " ") or report["dir"] for report in chronological]
    figure, (ratio_axis, median_axis) = plt.subplots(1, 2, figsize=(11, 3.2))
    all_arms = ["baseline"] + list(arms)
    unit = ""
    better = ""
    measured = sorted({chronological[position]["measured_on"] for entries in arms.values() for position, _ in entries})
    for arm, entries in arms.items():
        color = nzreport.arm_color(arm, all_arms)
        xs = [position for position, _ in entries]
        centers = [(entry["ratio"] - 1) * 100 if entry["ratio"] is not None else float("nan") for _, entry in entries]
        lows = [center - ((entry["low"] - 1) * 100) for center, (_, entry) in zip(centers, entries)]
        highs = [((entry["high"] - 1) * 100) - center if entry["high"] is not None else 0
                 for center, (_, entry) in zip(centers, entries)]
        ratio_axis.errorbar(xs, centers, yerr=[lows, highs], fmt="o-", color=color, capsize=3,
                            label=f"{arm} vs baseline")
        median_axis.plot(xs, [entry["median"] for _, entry in entries], "o-", color=color, label=arm)
        unit = entries[0][1]["unit"]
        better = entries[0][1]["better"]
    # The baseline arm's medians, once: every arm's entry carries the same baseline.
    first_arm = next(iter(arms.values()))
    median_axis.plot([position for position, _ in first_arm], [entry["baseline_median"] for _, entry in first_arm],
                     "s--", color=nzreport.arm_color("baseline", all_arms), label="baseline")
    where = ", ".join(measured)
    ratio_axis.axhline(0, color="black", linewidth=0.8)
    ratio_axis.set_title(f"{workload} {metric}: change vs baseline arm ({better} is better)")
    ratio_axis.set_ylabel(f"%, 95% bootstrap CI, {where}")
    median_axis.set_title(f"{workload} {metric}: median per arm")
    median_axis.set_ylabel(f"{unit}, {where}")
    nzreport.plain_axis(median_axis.yaxis)
    for axis in (ratio_axis, median_axis):
        axis.set_xticks(range(len(labels)))
        axis.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def headline_text(report):
    parts = []
    for entry in report["headline"]:
        parts.append(f"{entry['workload']} {entry['metric']} {entry['arm']}: {percent_change(entry['ratio'])} "
                     f"(p {p_value(entry['p_value'])})")
    return "; ".join(parts) or "no arm compared"


def render(index):
    reports = index["reports"]
    body = ["<h1>nozero-bench reports</h1>\n",
            f'<p class="meta">{len(reports)} reports, newest first. Index generated {html.escape(index["generated_at"])}. '
            "Every timing was measured where the table says; a TCG guest emulates the CPU, so its timings are not "
            "hardware timings.</p>\n"]
    rows = []
    for report in reports:
        link = f'<a href="{html.escape(report["html"])}">{html.escape(report["dir"])}</a>'
        rows.append([("html", link), report["created_at"], report["measured_on"], report["kernel_release"],
                     report["accelerator"], headline_text(report), report["warnings"]])
    body.append(nzreport.table_html(["report", "results created", "measured on", "guest kernel", "accelerator",
                                     "headline changes vs baseline arm", "warnings"], rows))

    chronological, series = trend_series(reports)
    body.append("<h2>Trends of the headline metrics</h2>\n")
    if not series:
        body.append("<p>No report compares an arm against the baseline arm, so there is no trend to draw.</p>\n")
    for key in sorted(series):
        workload, metric = key
        caption = (f"{workload} {metric} across reports, oldest on the left: change of each arm against the "
                   "baseline arm, and the medians.")
        body.append(nzreport.figure_html(trend_figure(key, series[key], chronological),
                                         f"trend-{workload}-{metric}", caption))
    return "".join(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", help="index.json written by nozero-bench report --index")
    parser.add_argument("--out", required=True, help="directory to write index.html to")
    arguments = parser.parse_args()
    index = nzreport.load_document(arguments.index, "nozero-bench/report-index")
    nzreport.write_text(os.path.join(arguments.out, "index.html"),
                        nzreport.page_html("nozero-bench reports", render(index)))


if __name__ == "__main__":
    main()
