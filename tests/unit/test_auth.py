"""Token checks for both kinds of stage: HS256 on local, RS256 against a JWKS everywhere else.

The RS256 cases run against a real JWKS document served over HTTP on loopback, so the PyJWKClient
path (fetch, cache, kid lookup) is the one production uses.
"""
from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.config import load_settings
from chalicelib.core.errors import Unauthorized
from chalicelib.http import auth

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
AUDIENCE = "app-client-id"


def _jwk(private_key, kid: str) -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture(scope="module")
def keys():
    return {"good": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "other": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


@pytest.fixture(scope="module")
def jwks_server(keys):
    hits = {"count": 0}
    document = json.dumps({"keys": [_jwk(keys["good"], "kid-1")]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            hits["count"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def rs_settings(jwks_server):
    url, _ = jwks_server
    auth._jwks_clients.clear()
    return dataclasses.replace(load_settings(), stage="dev", jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_url=url)


def _claims(**overrides) -> dict:
    now = int(time.time())
    return {"sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600,
            "email": "u@example.com", "cognito:groups": ["admin"], **overrides}


def _rs(keys, kid="kid-1", key="good", **claims) -> str:
    return jwt.encode(_claims(**claims), keys[key], algorithm="RS256", headers={"kid": kid})


def test_valid_rs256_token_and_cognito_groups(keys, rs_settings):
    principal = auth.authenticate(f"Bearer {_rs(keys)}", rs_settings)
    assert principal.sub == "user-1" and principal.is_admin and principal.email == "u@example.com"


def test_jwks_is_fetched_once_and_cached(keys, rs_settings, jwks_server):
    _, hits = jwks_server
    before = hits["count"]
    for _ in range(5):
        auth.authenticate(f"Bearer {_rs(keys)}", rs_settings)
    assert hits["count"] - before == 1


@pytest.mark.parametrize("make_header", [
    lambda k: None,
    lambda k: "",
    lambda k: "Bearer",
    lambda k: "Basic dXNlcjpwYXNz",
    lambda k: "Bearer garbage.garbage.garbage",
    lambda k: "Bearer not-a-jwt",
    lambda k: f"Bearer {_rs(k, exp=int(time.time()) - 10)}",
    lambda k: f"Bearer {_rs(k, iss='https://evil.example.com')}",
    lambda k: f"Bearer {_rs(k, aud='another-client')}",
    lambda k: f"Bearer {_rs(k, key='other')}",
    lambda k: f"Bearer {_rs(k, kid='unknown-kid')}",
    lambda k: "Bearer " + jwt.encode(_claims(), None, algorithm="none"),
    lambda k: "Bearer " + jwt.encode(_claims(), "x" * 32, algorithm="HS256", headers={"kid": "kid-1"}),
], ids=["missing", "empty", "no-token", "basic", "garbage", "not-jwt", "expired", "wrong-issuer",
        "wrong-audience", "wrong-key", "unknown-kid", "alg-none", "hs256-on-rs256-stage"])
def test_rs256_stage_rejects_bad_tokens(keys, rs_settings, make_header):
    with pytest.raises(Unauthorized):
        auth.authenticate(make_header(keys), rs_settings)


def test_missing_sub_is_rejected(keys, rs_settings):
    claims = _claims()
    del claims["sub"]
    token = jwt.encode(claims, keys["good"], algorithm="RS256", headers={"kid": "kid-1"})
    with pytest.raises(Unauthorized):
        auth.authenticate(f"Bearer {token}", rs_settings)


@pytest.fixture
def local_settings():
    return dataclasses.replace(load_settings(), stage="local", jwt_local_secret="s" * 32,
                               jwt_issuer="market-local", jwt_audience="market-local")


def test_local_stage_accepts_its_own_hs256_tokens(local_settings):
    token = auth.issue_local_token(sub="alice", groups=["finance"], settings=local_settings)
    principal = auth.authenticate(f"Bearer {token}", local_settings)
    assert principal.sub == "alice" and principal.is_finance and not principal.is_admin


def test_local_stage_rejects_other_secrets_algorithms_and_expiry(keys, local_settings):
    now = int(time.time())
    base = {"sub": "a", "iss": "market-local", "aud": "market-local", "exp": now + 60}
    bad = [
        jwt.encode(base, "wrong-secret-wrong-secret-wrong!", algorithm="HS256"),
        jwt.encode({**base, "exp": now - 60}, "s" * 32, algorithm="HS256"),
        jwt.encode({**base, "aud": "x"}, "s" * 32, algorithm="HS256"),
        jwt.encode({**base, "iss": "x"}, "s" * 32, algorithm="HS256"),
        jwt.encode(base, None, algorithm="none"),
        jwt.encode(base, keys["good"], algorithm="RS256"),
    ]
    for token in bad:
        with pytest.raises(Unauthorized):
            auth.authenticate(f"Bearer {token}", local_settings)


def test_local_stage_without_secret_refuses_everything(local_settings):
    settings = dataclasses.replace(local_settings, jwt_local_secret="")
    with pytest.raises(Unauthorized):
        auth.authenticate("Bearer x.y.z", settings)
