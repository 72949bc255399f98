"""The chart of a backend's results: each implementation's median ratio to the floor, per operation.

``write_chart()`` draws one horizontal grouped-bar SVG per backend with
matplotlib (the ``bench`` extra), on a log scale so 0.3× and 20× both read;
the floor is the line at 1×. ``report.update_doc()`` calls it next to the
table it writes, so the chart and the numbers always come from the same run.
The SVG is made reproducible (no date, fixed element ids) so re-rendering the
same JSON leaves git with nothing to commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FLOOR = "raw_thread"
# Column order of the tables, reused for the bars (top to bottom in a group).
ORDER = (
    "orm",
    "orm_wal",
    "django",
    "django61",
    "django_async_backend",
    "tortoise",
    "sqlalchemy",
    "raw_async",
)
COLOURS = {
    "orm": "#1f77b4",
    "orm_wal": "#aec7e8",
    "django": "#2ca02c",
    "django61": "#98df8a",
    "django_async_backend": "#17becf",
    "tortoise": "#ff7f0e",
    "sqlalchemy": "#9467bd",
    "raw_async": "#7f7f7f",
}


def chart_title(name: str, b: dict[str, Any], meta: dict[str, Any]) -> str:
    """One line: backend, run kind and date, so a chart read on its own says what it shows."""
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(name, name)
    kind = "quick run" if meta.get("quick") else "full run"
    return f"{title}: median time per call or row, relative to the floor ({kind}, {meta['runs']} runs, {meta['date']})"


def _series(b: dict[str, Any]) -> tuple[list[str], list[str], dict[str, list[float | None]]]:
    impls = [i for i in ORDER if i in b["implementations"]]
    impls += [i for i in b["implementations"] if i not in impls and i != FLOOR]
    ops = [op["key"] for op in b["operations"]]
    ratios = {i: [op["median_ratio"].get(i) for op in b["operations"]] for i in impls}
    return impls, ops, ratios


def write_chart(name: str, b: dict[str, Any], meta: dict[str, Any], path: Path) -> Path | None:
    """Draw ``b`` (one summarized backend) to ``path`` as SVG; None if nothing to draw.

    Raises ``ImportError`` naming the extra when matplotlib is not installed.
    """
    if b.get("skipped") or not b.get("operations"):
        return None
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "the benchmark chart needs matplotlib: pip install -e '.[bench]'"
        ) from exc
    matplotlib.use("Agg")  # no display on a CI machine
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    impls, ops, ratios = _series(b)
    labels = b.get("labels", {})
    height = 0.8 / max(len(impls), 1)
    matplotlib.rcParams["svg.hashsalt"] = f"orm-bench-{name}"  # stable element ids
    fig, ax = plt.subplots(figsize=(10, 0.2 * len(ops) * max(len(impls), 1) + 1.5))
    try:
        for n, impl in enumerate(impls):
            ys = [i + n * height for i in range(len(ops))]
            # Bars grow from the floor line at 1x: left of it is faster than
            # the floor, right slower. NaN (failed, not measured) draws nothing.
            widths = [r - 1.0 if r is not None else float("nan") for r in ratios[impl]]
            ax.barh(
                ys,
                widths,
                left=1.0,
                height=height,
                label=labels.get(impl, impl),
                color=COLOURS.get(impl),
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}×"))
        ax.axvline(1.0, color="black", linewidth=1)
        ax.set_yticks([i + height * (len(impls) - 1) / 2 for i in range(len(ops))], labels=ops)
        ax.invert_yaxis()
        ax.set_xlabel(
            f"time relative to the floor, {labels.get(FLOOR, FLOOR)} "
            "(log scale; left of 1× is faster than the floor)"
        )
        ax.set_title(chart_title(name, b, meta), fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    return path
