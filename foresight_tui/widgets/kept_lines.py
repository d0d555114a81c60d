"""Widgets whose own lines (border, title, background) are kept between frames.

Textual's partial frame asks every widget under the bounding box of all changed
regions for its lines, whole: with the heartbeat at the top and the cards below,
that is every card and container on the screen at each status. A card's own lines
(its border and titles around the body) change only when Textual is told they do:
a refresh, a restyle, a new title. Until then, its styles cache would hand back the
same lines again, after looking up background colours, title styles, opacity and
the theme, each an ancestor walk. These widgets hand back the lines of their last
render instead, for as long as nothing that shapes them changed.
"""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget


class CountingStylesCache(StylesCache):
    """Textual's styles cache, counting each time it is told a line changed."""

    def __init__(self) -> None:
        super().__init__()
        self.changes = 0

    def set_dirty(self, *regions: Region) -> None:
        self.changes += 1
        super().set_dirty(*regions)

    def clear(self) -> None:
        self.changes += 1
        super().clear()


# What a widget's own lines depend on, besides what its styles cache hears of.
_KeptFor = tuple[Region, Size, int, int, VisualStyle, tuple[object, ...], object, object]


class KeptLines(Widget):
    """A mixin: `render_lines` answers from the last render while nothing it depends on changed.

    Keyed as Textual's styles cache is, and more: a repaint or resize (the cache's changes),
    the widget's style (a restyle: focus, classes, theme), the crop, the app's line filters
    and the border titles. The cache itself keeps lines across an ancestor's background
    change just the same, so nothing goes stale here that would not there.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._styles_cache = CountingStylesCache()
        self._kept_for: _KeptFor | None = None
        self._kept: list[Strip] = []

    def render_lines(self, crop: Region) -> list[Strip]:
        cache = self._styles_cache
        assert isinstance(cache, CountingStylesCache)
        key = (
            crop,
            self.size,
            cache.changes,
            self.styles._cache_key,  # any rule changed (a border, padding), not only colours
            self.visual_style,
            tuple(self.get_line_filters()),
            self._border_title,
            self._border_subtitle,
        )
        if key != self._kept_for:
            self._kept = super().render_lines(crop)
            # The render itself may have told the cache of changes (the lines it drew).
            self._kept_for = (*key[:2], cache.changes, *key[3:])  # type: ignore[assignment]
        return list(self._kept)
