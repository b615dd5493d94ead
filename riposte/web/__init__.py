"""The web server: the chat page, letter downloads and evidence uploads.

The paths below are part of the links the assistant sends; the server answers them.
"""

#: Letter downloads: `/lettres/<token>.<pdf|docx>` (riposte.letters.links makes the tokens).
LETTERS_PATH = "/lettres/"
