"""``lrlint server``: a Language Server (pygls) over stdio.

Editors send the text of open YAML/JSON/Python configs; the server checks it with
``api.check_text`` (the same pipeline as ``lrlint check``, with the open buffers as an overlay)
and answers with diagnostics, code actions and hovers. Needs the ``lsp`` extra (pygls, lsprotocol).
"""
