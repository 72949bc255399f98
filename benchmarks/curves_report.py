"""The curves of ``benchmarks/curves.py`` as Markdown tables and one PNG per backend.

``docs/benchmarks.md`` keeps each backend's curves between
``<!-- bench:curves-<backend>:begin -->`` and ``<!-- bench:curves-<backend>:end -->``;
the plot goes to ``docs/img/curves-<backend>.png`` (matplotlib, from the
``bench`` extra, as ``chart.py``). Values are medians over a size's passes;
a ratio is to the floor (``raw_thread``) at the same size or level.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks.curves import ROW_OPS, fmt_rows
from benchmarks.report import FLOOR, ORDER, fmt_bytes, fmt_ratio, fmt_time, machine_lines

TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _median(values: list[float | None] | None) -> float | None:
    ok = [v for v in values or [] if v is not None]
    return statistics.median(ok) if ok else None


def _impls(c: dict[str, Any]) -> list[str]:
    present = c["implementations"]
    return [i for i in ORDER if i in present] + [i for i in present if i not in ORDER]


def row_medians(c: dict[str, Any], key: str) -> dict[str, dict[int, float | None]]:
    """impl -> size -> median seconds per row of operation ``key``."""
    return {
        impl: {int(size): _median(vals) for size, vals in per_size.items()}
        for impl, per_size in c["rows"][key].items()
    }


def _cell(t: float | None, floor: float | None, is_floor: bool) -> str:
    if t is None:
        return "—"
    if is_floor or not floor:
        return fmt_time(t)
    return f"{fmt_time(t)} ({fmt_ratio(t / floor)})"


def rows_table(c: dict[str, Any]) -> list[str]:
    impls, labels = _impls(c), c["labels"]
    sizes = c["config"]["sizes"]
    lines = [
        "| operation | rows | " + " | ".join(labels.get(i, i) for i in impls) + " |",
        "|---|---|" + "---|" * len(impls),
    ]
    for key, title in ROW_OPS:
        med = row_medians(c, key)
        for size in sizes:
            floor = med.get(FLOOR, {}).get(size)
            cells = [_cell(med.get(i, {}).get(size), floor, i == FLOOR) for i in impls]
            lines.append(f"| {title} | {fmt_rows(size)} | " + " | ".join(cells) + " |")
    return lines


def memory_table(c: dict[str, Any]) -> list[str]:
    impls, labels = _impls(c), c["labels"]
    lines = [
        "| rows | " + " | ".join(labels.get(i, i) for i in impls) + " |",
        "|---|" + "---|" * len(impls),
    ]
    for size in c["config"]["sizes"]:
        cells = [fmt_bytes(c["memory"].get(i, {}).get(str(size))) for i in impls]
        lines.append(f"| {fmt_rows(size)} | " + " | ".join(cells) + " |")
    return lines


def concurrency_series(c: dict[str, Any]) -> list[str]:
    """The series keys in column order: orm's two first, the floor last."""
    keys = list(c["concurrency"]["series"])
    rank = {k: n for n, k in enumerate(ORDER)}
    return sorted(
        keys,
        key=lambda k: (k == FLOOR, rank.get(k.removesuffix("_scoped"), 99), k.endswith("_scoped")),
    )


def concurrency_table(c: dict[str, Any]) -> list[str]:
    conc = c["concurrency"]
    series, labels = conc["series"], conc["labels"]
    lines = [
        "| tasks | series | p50 | p99 | aget/s | aget/s vs floor |",
        "|---|---|---|---|---|---|",
    ]
    for level in c["config"]["levels"]:
        floor = series.get(FLOOR, {}).get(str(level), {}).get("throughput")
        for key in concurrency_series(c):
            v = series[key].get(str(level))
            if v is None:
                lines.append(f"| {level} | {labels.get(key, key)} | **failed** | — | — | — |")
                continue
            ratio = "—" if not floor or key == FLOOR else fmt_ratio(v["throughput"] / floor)
            lines.append(
                f"| {level} | {labels.get(key, key)} | {fmt_time(v['p50'])} | "
                f"{fmt_time(v['p99'])} | {v['throughput']:,.0f} | {ratio} |"
            )
    return lines


def markdown(name: str, b: dict[str, Any], meta: dict[str, Any], plot: str | None = None) -> str:
    """One backend's "How cost grows" section; ``plot`` is the PNG's path relative to the page."""
    title = TITLES.get(name, name)
    lines = [f"### How cost grows: {title}", ""]
    c = b.get("curves")
    server = f"; server: {b['server']}" if b.get("server") else ""
    kind = "**quick run** (`--quick`: up to 100k rows)" if meta["quick"] else "full run"
    if b.get("skipped") or not c:
        why = b.get("skipped") or "the curves were not measured in this run"
        return "\n".join([*lines, f"**Not measured:** {why}", ""])
    cfg = c["config"]
    lines += [
        f"- {kind}, {meta['date']}; sizes {', '.join(fmt_rows(n) for n in cfg['sizes'])} "
        f"rows, {cfg['reps']} pass(es) per size (1 at 1M), `chunk_size={cfg['chunk_size']}`, "
        f"bulk create in batches of at most {fmt_rows(c['insert_batch'])} rows",
        *machine_lines(meta, server),
    ]
    if plot:
        lines += [
            f"![{title}: time per row against rows, aiterator peak memory, and aget "
            f"latency and throughput against concurrent tasks]({plot})",
            "",
        ]
    lines += [
        "Time per row (median over the passes; in parentheses the ratio to the floor "
        "at the same size). Lower is better; a flat row means cost linear in rows.",
        "",
        *rows_table(c),
        "",
        "`aiterator` peak memory over the whole table (tracemalloc, all threads, a "
        "separate pass): it should not grow with the table.",
        "",
        *memory_table(c),
        "",
        f"`aget` from concurrent tasks on a {fmt_rows(cfg['concurrency_rows'])}-row table, "
        f"{cfg['gets']:,} calls per level in all (each task's share in a row): latency "
        "of one call (p50, p99) and calls per second over the burst. Higher aget/s "
        "is better.",
        "",
        *concurrency_table(c),
        "",
    ]
    if c.get("errors"):
        lines += ["Errors:", "", *[f"- {e[:300]}" for e in c["errors"]], ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The plot
# --------------------------------------------------------------------------

COLOURS = {
    "orm": "#1f77b4",
    "orm_scoped": "#aec7e8",
    "django": "#2ca02c",
    "tortoise": "#ff7f0e",
    "sqlalchemy": "#9467bd",
    "raw_async": "#7f7f7f",
    "raw_thread": "#000000",
}


def write_plot(name: str, b: dict[str, Any], meta: dict[str, Any], path: Path) -> Path | None:
    """Six panels: four per-row curves, aiterator memory, aget throughput; None if no curves.

    Raises ``ImportError`` naming the extra when matplotlib is missing.
    """
    c = b.get("curves")
    if b.get("skipped") or not c:
        return None
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("the curves plot needs matplotlib: pip install -e '.[bench]'") from exc
    matplotlib.use("Agg")  # no display on a CI machine
    import matplotlib.pyplot as plt

    impls, labels = _impls(c), c["labels"]
    sizes = c["config"]["sizes"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    try:
        for ax, (key, title) in zip(axes.flat, ROW_OPS, strict=False):
            med = row_medians(c, key)
            for impl in impls:
                ys = [med.get(impl, {}).get(n) for n in sizes]
                _line(
                    ax,
                    sizes,
                    [None if y is None else y * 1e6 for y in ys],
                    labels.get(impl, impl),
                    impl,
                )
            _axes(ax, title.replace("`", ""), "rows", "µs per row")
        ax = axes.flat[4]
        for impl in impls:
            ys = [c["memory"].get(impl, {}).get(str(n)) for n in sizes]
            _line(
                ax,
                sizes,
                [None if y is None else y / (1 << 20) for y in ys],
                labels.get(impl, impl),
                impl,
            )
        _axes(ax, "aiterator peak memory (tracemalloc)", "rows", "MiB")
        ax = axes.flat[5]
        series, slabels = c["concurrency"]["series"], c["concurrency"]["labels"]
        levels = c["config"]["levels"]
        for key in concurrency_series(c):
            ys = [series[key].get(str(n), {}).get("throughput") for n in levels]
            _line(ax, levels, ys, slabels.get(key, key).replace("`", ""), key)
        _axes(ax, "aget throughput", "concurrent tasks", "aget/s")
        kind = "quick run" if meta.get("quick") else "full run"
        fig.suptitle(f"{TITLES.get(name, name)}: how cost grows ({kind}, {meta['date']})")
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8)
        h2, n2 = axes.flat[5].get_legend_handles_labels()
        axes.flat[5].legend(h2, n2, fontsize=7)
        fig.tight_layout(rect=(0, 0.06, 1, 0.96))
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=80, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path


def _line(ax: Any, xs: list[int], ys: list[float | None], label: str, key: str) -> None:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    if pts:
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            marker="o",
            label=label,
            color=COLOURS.get(key),
            linestyle="--" if key.endswith("_scoped") else "-",
        )


def _axes(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    if xlabel == "rows":  # 1k, 10k, 1M rather than 10^3
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _pos: fmt_rows(int(v)) if v >= 1 else "")
        )
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(which="both", alpha=0.3)
