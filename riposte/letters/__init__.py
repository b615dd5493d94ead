"""Letters: from a case to an editable draft (Markdown, HTML, DOCX, PDF), and the reply checker.

* `riposte.letters.build`: `build_letter(case, kind, today, options)` checks what the kind
  requires (`data/requirements.yml`), reuses `advise()` for prescription and refusals, renders
  the kind's template from `templates/letters/` and parses it into a `Document`.
* `riposte.letters.output`: `render(document, fmt)` for md, html, docx and pdf;
  `write_atomic(path, data)` writes a whole file or nothing.
* `riposte.letters.environment`: the one sandboxed, strict Jinja2 environment.
* `riposte.letters.filters`: French dates and legal formatting, registered in one place.
* `riposte.letters.model`: the document model and the parser of the template format.
* `riposte.letters.reply_check`: `check_reply(text)` and `suggest_neutral_reply()`.

Nothing is read or imported eagerly: data files, templates, WeasyPrint, python-docx and spaCy
are loaded on first use.
"""
