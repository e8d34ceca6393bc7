"""
serverlog.py — a server's stderr log (JSON lines) read incrementally by the e2e tests.
"""

import json


class ServerLog:
    """The lines logged so far to `path`, except the per-review ones (one per request of a
    stream, many thousands): JSON lines as dicts, anything else (a sanitizer report) as
    strings. Each call reads only what was appended since the last."""

    def __init__(self, path):
        self.path = path
        self._lines, self._offset, self._partial = [], 0, b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            return self._lines
        self._offset += len(data)
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            if b'"event":"review"' in raw:
                continue
            text = raw.decode("utf-8", "replace")
            try:
                self._lines.append(json.loads(text))
            except ValueError:
                self._lines.append(text)
        return self._lines

    def events(self, name):
        """The JSON lines whose event is `name`."""
        return [l for l in self.lines() if isinstance(l, dict) and l.get("event") == name]
