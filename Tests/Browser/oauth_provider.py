"""A small OAuth2 provider for the browser test (RFC 6749 authorization code, RFC 7636 PKCE S256).

GET /authorize shows a consent page with an Allow link back to the client's redirect URI with a
code; POST /token exchanges the code once, checking the client's id and secret (in the body)
and the PKCE verifier; GET /userinfo (the piece's validation request, for a recheck) accepts the
tokens it issued and those starting `at-seeded-ok`. It runs on a free loopback port in a thread of the test.
"""
import base64
import hashlib
import html
import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "browser-test-client"
CLIENT_SECRET = "browser-test-secret"


class Provider:
    def __init__(self):
        self.codes = {}
        self.exchanges = 0
        self.checks = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/userinfo":
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    provider.checks += 1
                    if token.startswith("at-seeded-ok") or token.startswith("at-browser-"):
                        return self.answer(200, "application/json", json.dumps({"sub": "1"}))
                    return self.answer(401, "application/json", json.dumps({"error": "invalid_token", "error_description": "Token revoked"}))
                if url.path != "/authorize" or query.get("client_id") != CLIENT_ID or query.get("code_challenge_method") != "S256":
                    return self.answer(400, "text/plain", "bad authorization request")
                code = secrets.token_urlsafe(16)
                provider.codes[code] = (query["redirect_uri"], query["code_challenge"])
                back = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
                page = (f"<!doctype html><title>Test provider</title><h1>Test Mail wants access</h1>"
                        f"<p>Scopes: {html.escape(query.get('scope', ''))}</p><a id='allow' href='{html.escape(back)}'>Allow</a>")
                self.answer(200, "text/html", page)

            def do_POST(self):
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                    return self.answer(401, "application/json", json.dumps({"error": "invalid_client"}))
                redirect, challenge = provider.codes.pop(form.get("code"), (None, None))
                verifier = form.get("code_verifier", "")
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if redirect != form.get("redirect_uri") or computed != challenge:
                    return self.answer(400, "application/json", json.dumps({"error": "invalid_grant"}))
                provider.exchanges += 1
                self.answer(200, "application/json", json.dumps({
                    "access_token": f"at-browser-{provider.exchanges}", "refresh_token": f"rt-browser-{provider.exchanges}",
                    "expires_in": 3600, "token_type": "Bearer", "scope": "mail.send"}))

            def answer(self, status, media_type, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def piece(self):
        return {"id": "testmail", "displayName": "Test Mail", "authType": "oauth2",
                "oauth2": {"authorizeUrl": self.url + "/authorize", "tokenUrl": self.url + "/token", "scopes": ["mail.send"],
                           "clientId": CLIENT_ID, "pkce": True, "clientAuthentication": "body"},
                "validation": {"method": "GET", "url": self.url + "/userinfo", "validStatuses": [200], "onConnect": False,
                               "credential": {"in": "header", "name": "Authorization", "value": "Bearer {accessToken}"}}}

    def stop(self):
        self.server.shutdown()
