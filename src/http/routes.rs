//! Every path revokd serves, in one place.

use actix_web::web;

use super::endpoint::Endpoint;
use super::extractors::{json_config, path_config, query_config};
use super::handlers::{
    account, admin, consents, global_revocation, introspect, metadata, ops, revoke, status_lists, token,
};

/// Mounts every route and the extractor settings they rely on. `allow_get_revoke`
/// is `REVOKD_REQUIRE_POST=false`.
pub fn mount(cfg: &mut web::ServiceConfig, allow_get_revoke: bool) {
    let admin = |path: &str| Endpoint::named(path, &format!("/admin/v1{path}"));
    let mut revoke_rest = Endpoint::new("/oauth2/rest/token/revoke").post(revoke::revoke);
    let mut revoke_rfc7009 = Endpoint::new("/oauth2/revoke").post(revoke::revoke_rfc7009);
    if allow_get_revoke {
        revoke_rest = revoke_rest.get(revoke::revoke_by_get);
        revoke_rfc7009 = revoke_rfc7009.get(revoke::revoke_rfc7009_by_get);
    }
    // actix tries resources in this order, and a path with a `{parameter}` costs a regex
    // match: the hot paths go first.
    cfg.app_data(json_config())
        .app_data(path_config())
        .app_data(query_config())
        .service(revoke_rest)
        .service(Endpoint::new("/oauth2/rest/token/introspect").post(introspect::introspect))
        .service(Endpoint::new("/oauth2/rest/token").post(token::token))
        .service(revoke_rfc7009)
        .service(Endpoint::new("/healthz").get(ops::healthz))
        .service(Endpoint::new("/readyz").get(ops::readyz))
        .service(Endpoint::new("/metrics").get(ops::metrics))
        .service(Endpoint::new("/openapi.json").get(ops::openapi_json))
        .service(Endpoint::new("/.well-known/oauth-authorization-server/domains/{domain}").get(metadata::metadata))
        .service(Endpoint::new("/oauth2/rest/jwks").get(metadata::jwks))
        .service(Endpoint::new("/domains/{domain}/global-token-revocation").post(global_revocation::revoke))
        .service(
            web::scope("/domains/{domain}/status-lists")
                .wrap(status_lists::cors_headers())
                .service(
                    Endpoint::named("", "/domains/{domain}/status-lists")
                        .get(status_lists::aggregation)
                        .options(status_lists::preflight),
                )
                .service(
                    Endpoint::named("/{list_id}", "/domains/{domain}/status-lists/{list_id}")
                        .get(status_lists::list)
                        .options(status_lists::preflight),
                ),
        )
        .service(Endpoint::new("/oauth2/rest/consents").get(consents::list))
        .service(Endpoint::new("/oauth2/rest/consents/{consent_id}").delete(consents::withdraw))
        .service(Endpoint::new("/account").get(account::home))
        .service(Endpoint::new("/account/style.css").get(account::stylesheet))
        .service(Endpoint::new("/account/sign-in").post(account::sign_in))
        .service(Endpoint::new("/account/sign-out").post(account::sign_out))
        .service(
            Endpoint::new("/account/sign-out-everywhere")
                .get(account::confirm_sign_out_everywhere)
                .post(account::sign_out_everywhere),
        )
        .service(
            Endpoint::new("/account/applications/{consent_id}/revoke")
                .get(account::confirm_revoke)
                .post(account::revoke),
        )
        .service(
            web::scope("/admin/v1")
                .service(admin("/domains").post(admin::domains::create).get(admin::domains::list))
                .service(
                    admin("/domains/{domain}")
                        .get(admin::domains::get)
                        .patch(admin::domains::update)
                        .delete(admin::domains::delete),
                )
                .service(
                    admin("/domains/{domain}/clients")
                        .post(admin::clients::create)
                        .get(admin::clients::list),
                )
                .service(
                    admin("/domains/{domain}/clients/{client_id}")
                        .get(admin::clients::get)
                        .delete(admin::clients::delete),
                )
                .service(admin("/domains/{domain}/clients/{client_id}/secret").post(admin::clients::rotate_secret))
                .service(
                    admin("/domains/{domain}/users")
                        .post(admin::users::create)
                        .get(admin::users::list),
                )
                .service(
                    admin("/domains/{domain}/users/{username}")
                        .get(admin::users::get)
                        .patch(admin::users::update)
                        .delete(admin::users::delete),
                )
                .service(admin("/domains/{domain}/users/{username}/password").put(admin::users::set_password))
                .service(admin("/domains/{domain}/revocations").post(admin::revocations::create))
                .service(admin("/domains/{domain}/tokens/lookup").post(admin::tokens::lookup))
                .service(
                    admin("/domains/{domain}/revocation-policy")
                        .put(admin::policies::put)
                        .get(admin::policies::get)
                        .delete(admin::policies::delete),
                )
                .service(admin("/domains/{domain}/revocation-policy/evaluate").post(admin::policies::evaluate))
                .service(admin("/domains/{domain}/audit").get(admin::audit::list)),
        )
        .default_service(web::to(ops::not_found));
}
