"""PNG figures of the longitudinal report: maps over anatomy, label maps, biomarker-vs-day
plots and the PRM scatter.

matplotlib is optional (not bundled with Slicer): imported on first use through
``dependencies.require`` and drawn with the Agg canvas on a bare ``Figure`` (no pyplot, so
no global backend state is touched inside Slicer).

Orientation: slices are 2D arrays [rows j, columns i] of an axial slice. With the volume's
``ijk_to_ras`` they are drawn as Slicer's axial (Red) slice view shows them, in radiological
convention: Slicer's axial slice-to-RAS matrix is diag(-1, 1, 1)
(``vtkMRMLSliceNode.GetAxialSliceToRASMatrix``), so the screen x axis runs toward RAS -x, the
patient's Left, and the screen y axis (up) toward Anterior: the patient's Right is on the
screen's left, Anterior at the top. The R / L / A / P letters are drawn on the figure's edges.
Without ``ijk_to_ras`` the slice is assumed to have i toward +x (Right) and j toward +y
(Anterior), as the readers and the phantom write it.
"""
import numpy as np

from ..dependencies import require

# Letters at the screen's left, right, top and bottom edges of a radiological axial view.
AXIAL_SCREEN_LETTERS = {"left": "R", "right": "L", "top": "A", "bottom": "P"}
_DEFAULT_IJK_TO_RAS = np.diag([1.0, 1.0, 1.0, 1.0])


def radiological_axial(slice_2d, ijk_to_ras=None):
    """The axial slice [j, i] in screen order for ``imshow(origin="upper")``: row 0 at the top
    (most Anterior), column 0 at the left (patient's Right, largest RAS x), as Slicer's axial view.

    Works for any in-plane orientation of i and j (swapped, flipped); the through-plane axis is
    assumed to be k (axial slices, as the report draws them)."""
    array = np.asarray(slice_2d)
    matrix = _DEFAULT_IJK_TO_RAS if ijk_to_ras is None else np.asarray(ijk_to_ras, dtype=float)
    i_dir, j_dir = matrix[:3, 0], matrix[:3, 1]
    # The in-plane axis closer to RAS x runs across the screen; the other one up/down.
    if abs(j_dir[0]) > abs(i_dir[0]):
        array, i_dir, j_dir = array.T, j_dir, i_dir      # now columns follow the x-like axis
    if i_dir[0] > 0:                                     # column index toward +x (Right): Right must be left
        array = array[:, ::-1]
    if j_dir[1] > 0:                                     # row index toward Anterior: Anterior must be on top
        array = array[::-1, :]
    return array


def _letters(ax):
    """R / L / A / P at the edges of the image axes (radiological axial view)."""
    style = dict(transform=ax.transAxes, fontsize=9, fontweight="bold", color="#ffcc00",
                 bbox=dict(boxstyle="round,pad=0.1", fc="black", ec="none", alpha=0.55))
    ax.text(0.015, 0.5, AXIAL_SCREEN_LETTERS["left"], ha="left", va="center", **style)
    ax.text(0.985, 0.5, AXIAL_SCREEN_LETTERS["right"], ha="right", va="center", **style)
    ax.text(0.5, 0.985, AXIAL_SCREEN_LETTERS["top"], ha="center", va="top", **style)
    ax.text(0.5, 0.015, AXIAL_SCREEN_LETTERS["bottom"], ha="center", va="bottom", **style)


def _figure(size):
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path, tight=True):
    """``tight=False``: the axes were placed by hand (room for a legend beside them)."""
    if tight:
        figure.tight_layout()
    figure.savefig(path)
    return path


def _grey(ax, anatomy):
    anatomy = np.asarray(anatomy, dtype=float)
    finite = anatomy[np.isfinite(anatomy)]
    low, high = (np.percentile(finite, [1, 99.5]) if finite.size else (0.0, 1.0))
    ax.imshow(anatomy, cmap="gray", origin="upper", vmin=low, vmax=high if high > low else low + 1,
              interpolation="nearest")


# One size for every map figure so that a visit's maps line up in the report's grid.
MAP_FIGURE_SIZE = (4.4, 3.6)


def overlay_figure(anatomy, values, title, unit, cmap="viridis", value_range=None, mask=None, ijk_to_ras=None):
    """(figure, image axes) of :func:`overlay_png` (tests read the axes' place on the canvas)."""
    values = np.asarray(values, dtype=float)
    hidden = ~np.isfinite(values) if mask is None else (~np.asarray(mask, bool) | ~np.isfinite(values))
    shown = values[~hidden]
    if value_range is None:
        value_range = tuple(np.percentile(shown, [2, 98])) if shown.size else (0.0, 1.0)
    low, high = value_range
    figure = _figure(MAP_FIGURE_SIZE)
    ax = figure.add_subplot(1, 1, 1)
    _grey(ax, radiological_axial(anatomy, ijk_to_ras))
    overlay = radiological_axial(np.ma.masked_array(values, hidden), ijk_to_ras)
    image = ax.imshow(overlay, cmap=cmap, origin="upper", vmin=low,
                      vmax=high if high > low else low + 1e-12, alpha=0.85, interpolation="nearest")
    figure.colorbar(image, ax=ax, label=unit)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    _letters(ax)
    return figure, ax


def overlay_png(path, anatomy, values, title, unit, cmap="viridis", value_range=None, mask=None, ijk_to_ras=None):
    """A slice of anatomy in grey with a parameter map over it and a colour bar labelled ``unit``,
    in radiological convention with orientation letters (see the module text).

    Voxels outside ``mask`` (when given) or NaN are transparent. ``value_range`` (low, high)
    defaults to the 2nd-98th percentiles of the shown values (the report passes the registry's
    fixed range so that visits compare).
    """
    figure, _ = overlay_figure(anatomy, values, title, unit, cmap, value_range, mask, ijk_to_ras)
    return _save(figure, path)


def labels_png(path, anatomy, labels, names_colours, title, ijk_to_ras=None):
    """Anatomy with a label map over it; ``names_colours``: {value: (name, (r, g, b))}; 0 transparent.
    Radiological convention with orientation letters; the legend sits beside the image, not on it."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    values = sorted(int(v) for v in names_colours)
    # colour of value v at index v; values without a name (and 0) are transparent
    colours = [(*names_colours[v][1], 1.0) if v in names_colours else (0, 0, 0, 0) for v in range(max(values) + 1)]
    figure = _figure(MAP_FIGURE_SIZE)
    ax = figure.add_axes((0.03, 0.04, 0.6, 0.86))          # the legend goes to the right of the image
    _grey(ax, radiological_axial(anatomy, ijk_to_ras))
    ax.imshow(radiological_axial(np.ma.masked_equal(np.asarray(labels), 0), ijk_to_ras), cmap=ListedColormap(colours),
              vmin=-0.5, vmax=len(colours) - 0.5, origin="upper", alpha=0.8, interpolation="nearest")
    ax.legend([Patch(color=names_colours[v][1]) for v in values], [names_colours[v][0] for v in values],
              fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    _letters(ax)
    return _save(figure, path, tight=False)


def lines_png(path, days, series, title, ylabel, truth=None):
    """Biomarker(s) against days on treatment; missing values (None/NaN) leave gaps.

    ``series``: {label: values per visit}; ``truth`` (optional): {label: true values}, dashed.
    """
    figure = _figure((6.6, 3.4))
    ax = figure.add_axes((0.1, 0.14, 0.58, 0.76))          # the legend goes to the right of the plot
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
    # Legend beside the plot, never over a data point.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _save(figure, path, tight=False)


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
