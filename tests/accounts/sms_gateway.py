"""An SMS gateway class for tests that run the portal with production settings (SMS_SENDER names it)."""

from __future__ import annotations


class GatewaySmsSender:
    """Stands for a real gateway's sender: production settings need one that is not the demo outbox."""

    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError("tests with production settings never send a text message")
