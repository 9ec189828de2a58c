"""A client generated from openapi/openapi.json (openapi-python-client) against a
running revokd, using only the generated functions and models: discovery, a password
grant, introspection, revocation through the generated `revoke` operations (HTTP Basic
and client_secret_post), proof by introspection that the tokens are dead, the §3 error
object, and the operator API.

Usage: generated_client_smoke.py BASE_URL DOMAIN CLIENT_ID CLIENT_SECRET USERNAME PASSWORD
       ADMIN_TOKEN CLI_TOKEN
(CLI_TOKEN: a client_credentials access token issued by `revokd token issue`.)
"""

import base64
import sys
from urllib.parse import quote_plus

from revokd_client import AuthenticatedClient, Client
from revokd_client.api.discovery import get_authorization_server_metadata
from revokd_client.api.oauth import introspect_token, issue_token, revoke_token, revoke_token_rfc7009
from revokd_client.api.operator import bulk_revoke, list_domains
from revokd_client.models import (
    ActiveIntrospection,
    BulkRevocation,
    BulkRevoked,
    DomainList,
    ErrorBody,
    ErrorCode,
    GrantType,
    InactiveIntrospection,
    IntrospectForm,
    Metadata,
    RevokeForm,
    RevokeLevel,
    RevokeType,
    Success,
    TokenForm,
    TokenResponse,
    TokenTypeParam,
)


def expect(condition, what, got=None):
    if not condition:
        raise SystemExit(f"generated client smoke test FAILED: {what}" + (f"; got {got!r}" if got is not None else ""))


def basic(client_id, secret):
    # RFC 6749 §2.3.1: form-urlencode, then base64.
    return base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()


def main(base, domain, client_id, client_secret, username, password, admin_token, cli_token):
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    app = AuthenticatedClient(
        base_url=base, token=basic(client_id, client_secret), prefix="Basic", raise_on_unexpected_status=True
    )
    operator = AuthenticatedClient(base_url=base, token=admin_token, raise_on_unexpected_status=True)

    metadata = get_authorization_server_metadata.sync(domain, client=anonymous)
    expect(isinstance(metadata, Metadata), "metadata", metadata)
    expect(metadata.revocation_endpoint == f"{base}/oauth2/revoke?identityDomain={domain}", "revocation_endpoint",
           metadata.revocation_endpoint)

    def is_active(token):
        answer = introspect_token.sync(client=app, body=IntrospectForm(token=token), identity_domain=domain)
        expect(isinstance(answer, (ActiveIntrospection, InactiveIntrospection)), "introspection answer", answer)
        if isinstance(answer, InactiveIntrospection):
            expect(answer.to_dict() == {"active": False}, 'exactly {"active": false}', answer.to_dict())
            return False
        expect(answer.active is True and answer.client_id == client_id, "a live token's introspection", answer)
        return True

    # A password grant, the domain named by the header this time.
    tokens = issue_token.sync(
        client=app,
        body=TokenForm(grant_type=GrantType.PASSWORD, username=username, password=password, scope="openid"),
        x_oauth_identity_domain_name=domain,
    )
    expect(isinstance(tokens, TokenResponse), "password grant", tokens)
    expect(tokens.token_type == "Bearer" and isinstance(tokens.refresh_token, str), "access and refresh token", tokens)
    expect(is_active(tokens.access_token) and is_active(tokens.refresh_token), "fresh tokens are active")

    # Revoke the refresh token with its family through the generated revoke operation.
    revoked = revoke_token.sync(
        client=app,
        body=RevokeForm(
            token=tokens.refresh_token, token_type=TokenTypeParam.REFRESH_TOKEN, revoke_level=RevokeLevel.RELATED_TOKENS
        ),
        identity_domain=domain,
    )
    expect(isinstance(revoked, Success) and revoked.status == "success", "revoke_token", revoked)
    expect(not is_active(tokens.refresh_token), "the revoked refresh token is dead")
    expect(not is_active(tokens.access_token), "RELATED_TOKENS took the access token with it")

    # The RFC 7009 endpoint with client_secret_post (credentials in the form, no Basic).
    revoked = revoke_token_rfc7009.sync(
        client=anonymous,
        body=RevokeForm(token=cli_token, client_id=client_id, client_secret=client_secret, token_type_hint="access_token"),
        identity_domain=domain,
    )
    expect(isinstance(revoked, Success), "revoke_token_rfc7009 with client_secret_post", revoked)
    expect(not is_active(cli_token), "the CLI-issued token is dead")

    # A wrong secret: 401 invalid_client, the §3 error object and a Basic challenge.
    wrong = AuthenticatedClient(base_url=base, token=basic(client_id, "wrong"), prefix="Basic",
                                raise_on_unexpected_status=True)
    refused = revoke_token.sync_detailed(client=wrong, body=RevokeForm(token="x"), identity_domain=domain)
    expect(refused.status_code == 401 and isinstance(refused.parsed, ErrorBody), "401 for a wrong secret", refused)
    expect(refused.parsed.error == ErrorCode.INVALID_CLIENT and refused.parsed.status == "failure",
           "invalid_client error body", refused.parsed)
    expect(refused.headers.get("www-authenticate") == f'Basic realm="{domain}"', "WWW-Authenticate",
           refused.headers.get("www-authenticate"))

    # The operator API: the domain is listed, and a dry-run bulk revocation counts nothing live.
    domains = list_domains.sync(client=operator)
    expect(isinstance(domains, DomainList) and domain in [d.name for d in domains.domains], "list_domains", domains)
    counted = bulk_revoke.sync(
        domain,
        client=operator,
        body=BulkRevocation(username=username, revoke_type=RevokeType.TOKENS, dry_run=True),
    )
    expect(isinstance(counted, BulkRevoked) and counted.revoked_tokens == 0, "bulk_revoke dry run", counted)

    print("generated client: metadata, password grant, revoke (Basic and client_secret_post), "
          "introspection, errors and the operator API all behaved")


if __name__ == "__main__":
    main(*sys.argv[1:])
