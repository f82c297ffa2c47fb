"""PNG figures of the longitudinal report: maps over anatomy, label maps, biomarker-vs-day
plots and the PRM scatter.

matplotlib is optional (not bundled with Slicer): imported on first use through
``dependencies.require`` and drawn with the Agg canvas on a bare ``Figure`` (no pyplot, so
no global backend state is touched inside Slicer). Slices are 2D arrays [rows, columns]
shown with row 0 at the bottom (``origin="lower"``), as Slicer shows an axial slice with
its IJK-to-RAS rows pointing anterior.
"""
import numpy as np

from ..dependencies import require


def _figure(size):
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path)
    return path


def _grey(ax, anatomy):
    anatomy = np.asarray(anatomy, dtype=float)
    finite = anatomy[np.isfinite(anatomy)]
    low, high = (np.percentile(finite, [1, 99.5]) if finite.size else (0.0, 1.0))
    ax.imshow(anatomy, cmap="gray", origin="lower", vmin=low, vmax=high if high > low else low + 1,
              interpolation="nearest")


def overlay_png(path, anatomy, values, title, unit, cmap="viridis", value_range=None, mask=None):
    """A slice of anatomy in grey with a parameter map over it and a colour bar labelled ``unit``.

    Voxels outside ``mask`` (when given) or NaN are transparent. ``value_range`` (low, high)
    defaults to the 2nd-98th percentiles of the shown values.
    """
    values = np.asarray(values, dtype=float)
    hidden = ~np.isfinite(values) if mask is None else (~np.asarray(mask, bool) | ~np.isfinite(values))
    shown = values[~hidden]
    if value_range is None:
        value_range = tuple(np.percentile(shown, [2, 98])) if shown.size else (0.0, 1.0)
    low, high = value_range
    figure = _figure((4.4, 3.6))
    ax = figure.add_subplot(1, 1, 1)
    _grey(ax, anatomy)
    image = ax.imshow(np.ma.masked_array(values, hidden), cmap=cmap, origin="lower", vmin=low,
                      vmax=high if high > low else low + 1e-12, alpha=0.85, interpolation="nearest")
    figure.colorbar(image, ax=ax, label=unit)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return _save(figure, path)


def labels_png(path, anatomy, labels, names_colours, title):
    """Anatomy with a label map over it; ``names_colours``: {value: (name, (r, g, b))}; 0 transparent."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    values = sorted(int(v) for v in names_colours)
    # colour of value v at index v; values without a name (and 0) are transparent
    colours = [(*names_colours[v][1], 1.0) if v in names_colours else (0, 0, 0, 0) for v in range(max(values) + 1)]
    figure = _figure((4.4, 3.6))
    ax = figure.add_subplot(1, 1, 1)
    _grey(ax, anatomy)
    ax.imshow(np.ma.masked_equal(np.asarray(labels), 0), cmap=ListedColormap(colours), vmin=-0.5,
              vmax=len(colours) - 0.5, origin="lower", alpha=0.8, interpolation="nearest")
    ax.legend([Patch(color=names_colours[v][1]) for v in values], [names_colours[v][0] for v in values],
              fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return _save(figure, path)


def lines_png(path, days, series, title, ylabel, truth=None):
    """Biomarker(s) against days on treatment; missing values (None/NaN) leave gaps.

    ``series``: {label: values per visit}; ``truth`` (optional): {label: true values}, dashed.
    """
    figure = _figure((5.2, 3.4))
    ax = figure.add_subplot(1, 1, 1)
    days = np.asarray([np.nan if d is None else d for d in days], dtype=float)
    for label, values in series.items():
        line, = ax.plot(days, [np.nan if v is None else v for v in values], marker="o", label=label)
        if truth and label in truth:
            ax.plot(days, [np.nan if v is None else v for v in truth[label]], ls="--", color=line.get_color(),
                    label=f"{label} (truth)")
    ax.axvline(0, color="0.7", lw=0.8)
    ax.set_xlabel("days since treatment start")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return _save(figure, path)


def scatter_png(path, baseline, follow_up, threshold, title, unit):
    """PRM scatter: follow-up against baseline per voxel, identity line and the +-threshold band,
    points coloured by class (red increased, blue decreased, green unchanged)."""
    baseline, follow_up = np.asarray(baseline, dtype=float), np.asarray(follow_up, dtype=float)
    difference = follow_up - baseline
    colours = np.where(difference > threshold, "#d62728", np.where(difference < -threshold, "#1f5fd6", "#2ca02c"))
    figure = _figure((4.2, 4.0))
    ax = figure.add_subplot(1, 1, 1)
    ax.scatter(baseline, follow_up, s=4, c=colours, alpha=0.6, linewidths=0)
    finite = np.concatenate([baseline, follow_up])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        line = np.array([finite.min(), finite.max()])
        ax.plot(line, line, "k-", lw=0.8)
        ax.plot(line, line + threshold, "k--", lw=0.6)
        ax.plot(line, line - threshold, "k--", lw=0.6)
    ax.set_xlabel(f"baseline ({unit})")
    ax.set_ylabel(f"follow-up ({unit})")
    ax.set_title(title, fontsize=9)
    return _save(figure, path)
