"""The web server: the chat page, letter downloads and evidence uploads."""
