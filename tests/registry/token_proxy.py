#!/usr/bin/env python3
"""A bearer-token front for the test registry, on 127.0.0.1 only.

Usage: token_proxy.py UPSTREAM_PORT USER PASSWORD PORTFILE
Every /v2/ request without a valid token gets 401 with a Bearer challenge
(realm = our /token); /token hands out a token for the right basic
credentials only. Valid requests are forwarded to the upstream registry.
The chosen port is written to PORTFILE."""
import base64
import http.server
import secrets
import sys
import urllib.error
import urllib.request

upstream, user, password, portfile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
tokens = set()
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if self.path.startswith("/token"):
            if auth != expected:
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
            tok = secrets.token_hex(16)
            tokens.add(tok)
            return self.reply(200, ('{"token":"%s"}' % tok).encode(),
                              [("Content-Type", "application/json")])
        if not self.path.startswith("/v2/"):
            return self.reply(404)
        if not (auth.startswith("Bearer ") and auth[7:] in tokens):
            port = self.server.server_address[1]
            parts = self.path.split("/")
            repo = "/".join(parts[2:-2]) if len(parts) > 4 else ""
            challenge = (f'Bearer realm="http://127.0.0.1:{port}/token",'
                         f'service="skiff-test",scope="repository:{repo}:pull"')
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              [("WWW-Authenticate", challenge)])
        req = urllib.request.Request(f"http://127.0.0.1:{upstream}{self.path}")
        if self.headers.get("Accept"):
            req.add_header("Accept", self.headers["Accept"])
        try:
            with urllib.request.urlopen(req) as r:
                body = r.read()
                hdrs = [(k, v) for k, v in r.getheaders()
                        if k.lower() in ("content-type", "docker-content-digest")]
                return self.reply(r.status, body, hdrs)
        except urllib.error.HTTPError as e:
            return self.reply(e.code, e.read())


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
