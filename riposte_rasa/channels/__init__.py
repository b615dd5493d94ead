"""Rasa input channels: REST, socket.io (the web page), Telegram and Signal."""
