"""A stock OAuth client (Authlib) against a running revokd, driven only by the
RFC 8414 metadata document: client_credentials, password, refresh (rotation),
revocation and introspection, and the JWT verified against the JWKS.

Usage: authlib_smoke.py BASE_URL DOMAIN CLIENT_ID CLIENT_SECRET USERNAME PASSWORD
"""

import sys
import warnings

import requests
from authlib.integrations.requests_client import OAuth2Session
warnings.filterwarnings("ignore", message="authlib.jose module is deprecated")
from authlib.jose import JsonWebKey, JsonWebToken  # noqa: E402


def main(base, domain, client_id, client_secret, username, password):
    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server/domains/{domain}", timeout=10).json()
    assert metadata["issuer"] == f"{base}/domains/{domain}", metadata

    session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic")
    machine = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert machine["token_type"] == "Bearer" and "refresh_token" not in machine, machine

    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = JsonWebToken(["ES256"]).decode(machine["access_token"], keys)
    claims.validate()
    assert claims["iss"] == metadata["issuer"] and claims["sub"] == client_id, dict(claims)

    user = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_post")
    first = user.fetch_token(metadata["token_endpoint"], username=username, password=password)
    rotated = user.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert rotated["refresh_token"] != first["refresh_token"], "refresh tokens rotate"

    def active(token):
        answer = session.introspect_token(metadata["introspection_endpoint"], token=token)
        answer.raise_for_status()
        return answer.json()["active"]

    assert active(rotated["access_token"])
    assert not active(first["refresh_token"]), "a rotated refresh token is inactive"
    revoked = session.revoke_token(metadata["revocation_endpoint"], token=rotated["refresh_token"], token_type_hint="refresh_token")
    assert revoked.status_code == 200, revoked.text
    assert not active(rotated["refresh_token"])
    assert not active(rotated["access_token"]), "RFC 7009 default: the refresh token's access tokens go too"
    print("authlib: client_credentials, password, refresh, revoke and introspect all behaved")


if __name__ == "__main__":
    main(*sys.argv[1:])
