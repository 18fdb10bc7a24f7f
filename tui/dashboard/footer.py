"""The key footer, rebuilt only when the keys it shows change.

Textual's Footer recomposes (a dozen FooterKey widgets unmounted, mounted and
laid out: 20-60 ms of the event loop) every time the screen signals that
bindings may have changed: each focus change, the app gaining focus, a screen
pushed. At start-up that is three rebuilds of identical keys while the first
poll streams in. Here a rebuild happens when what the footer would show differs.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer


class KeysFooter(Footer):
    _shown_keys: Any = None

    def _keys_signature(self) -> Any:
        try:
            active = self.screen.active_bindings
        except Exception:  # not on a screen (yet): build as Textual does
            return None
        return (
            self.show_command_palette,
            self.compact,
            tuple(
                (key, binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                 binding.show, binding.group, enabled, tooltip)
                for key, (_, binding, enabled, tooltip) in active.items()
            ),
        )

    async def recompose(self) -> None:
        if not self.is_attached or not getattr(self, "_bindings_ready", True):
            await super().recompose()
            return
        signature = self._keys_signature()
        if signature is not None and signature == self._shown_keys and self.children:
            return
        self._shown_keys = signature
        await super().recompose()
