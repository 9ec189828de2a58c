use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::ClientType;
use crate::domain::revocation::{Reason, RevocationEndpoint, RevokeLevel, TokenKind, TokenTypeParam};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

fn activation() -> Activation {
    Activation {
        client: ClientFacts {
            client_id: "web".into(),
            client_type: ClientType::Confidential,
            domain_admin: false,
            scopes: vec!["openid".into(), "profile".into()],
        },
        token: TokenFacts {
            kind: TokenKind::Refresh,
            client_id: "web".into(),
            username: Some("alice".into()),
            scopes: vec!["openid".into()],
            issued_at: at(1_000),
            expires_at: at(5_000),
            active: true,
        },
        request: RequestFacts {
            revoke_level: RevokeLevel::None,
            token_type: TokenTypeParam::None,
            endpoint: RevocationEndpoint::Oam,
            reason: None,
        },
        now: at(2_000),
    }
}

fn decide(source: &str) -> Decision {
    Policy::compile(source)
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .evaluate(&activation(), Limits::default())
}

fn allowed() -> Decision {
    Decision {
        allow: true,
        revoke_level: None,
        reason: None,
        error: None,
    }
}

#[test]
fn booleans_allow_or_deny() {
    assert_eq!(decide("true"), allowed());
    assert!(!decide("false").allow);
    assert!(decide("token.kind == 'refresh' && client.client_id == token.client_id").allow);
    assert!(!decide("request.endpoint == 'rfc7009'").allow);
}

#[test]
fn variables_carry_times_lists_and_nulls() {
    assert!(decide("now - token.issued_at == duration('1000s')").allow);
    assert!(decide("token.expires_at > now && token.active").allow);
    assert!(decide("'profile' in client.scopes && size(token.scopes) == 1").allow);
    assert!(decide("request.reason == null && token.username == 'alice'").allow);
    assert!(decide("request.revoke_level == 'NONE' && request.token_type == 'NONE'").allow);
    assert!(decide("client.client_type == 'confidential' && !client.domain_admin").allow);
}

#[test]
fn a_map_replaces_the_level_and_gives_a_reason() {
    let decision = decide("{'allow': true, 'revoke_level': 'RELATED_TOKENS', 'reason': 'policy says so'}");
    assert_eq!(
        decision,
        Decision {
            allow: true,
            revoke_level: Some(RevokeLevel::RelatedTokens),
            reason: Reason::parse("policy says so").ok(),
            error: None,
        }
    );
    assert_eq!(decision.level(RevokeLevel::None), RevokeLevel::RelatedTokens);
    assert_eq!(
        decision.reason(None).as_ref().map(Reason::as_str),
        Some("policy says so")
    );
    let asked = Reason::parse("asked").ok();
    assert_eq!(decision.reason(asked.clone()), asked);
    // Branches may mix booleans and maps.
    assert_eq!(decide("token.kind == 'access' ? false : {'allow': true}"), allowed());
}

#[test]
fn errors_and_wrong_shapes_fail_safe() {
    for source in [
        "1 / 0 == 1",
        "token.missing == 1",
        "42",
        "'yes'",
        "{'allow': 'yes'}",
        "{'revoke_level': 'NONE'}",
        "{'allow': false, 'revoke_level': 'EVERYTHING'}",
        "{'allow': false, 'colour': 'red'}",
        "{'allow': false, 'reason': ''}",
    ] {
        let decision = decide(source);
        assert!(decision.allow, "{source}");
        assert!(decision.error.is_some(), "{source}");
        assert_eq!(decision.revoke_level, None, "{source}");
    }
    assert!(decide("1 / 0 == 1").error.unwrap_or_default().contains("zero"));
}

#[test]
fn the_cost_limit_stops_nested_comprehensions() {
    let range = format!("[{}]", (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    let source = format!("{range}.all(a, {range}.all(b, {range}.all(c, false)) || true) == false");
    let decision = decide(&source);
    assert!(decision.allow);
    assert!(decision.error.unwrap_or_default().contains("cost limit"), "{source}");
    // A small one is fine, and the budget is per evaluation.
    assert_eq!(decide("client.scopes.exists(s, s == 'openid')"), allowed());
    let tight = Limits {
        iterations: 1,
        ..Limits::default()
    };
    let policy = Policy::compile("client.scopes.all(s, s != '')").unwrap_or_else(|e| panic!("{e}"));
    assert!(policy.evaluate(&activation(), tight).error.is_some());
    assert!(policy.evaluate(&activation(), Limits::default()).error.is_none());
}

#[test]
fn mistakes_are_refused_with_their_position() {
    let error = Policy::compile("token.kind ==").map(|_| ()).unwrap_err();
    assert_eq!((error.line, error.column), (1, 14), "{error}");
    let error = Policy::compile("true &&\n  tokn.active").map(|_| ()).unwrap_err();
    assert_eq!((error.line, error.column), (2, 3), "{error}");
    assert!(error.to_string().contains("2:3"), "{error}");
    assert!(error.message.contains("tokn"));
    assert!(Policy::compile("").is_err());
    assert!(Policy::compile(&"x".repeat(MAX_EXPRESSION_CHARS + 1)).is_err());
    let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
    assert!(Policy::compile(&deep).is_err());
    // Comprehension variables are known inside their comprehension only.
    assert!(Policy::compile("client.scopes.all(s, s != '')").is_ok());
    assert!(Policy::compile("client.scopes.all(s, true) && s == ''").is_err());
    assert!(Policy::compile("type(token.kind) == string").is_ok());
}

#[test]
fn positions_count_lines_and_characters() {
    assert_eq!(line_column("abc", 0), (1, 1));
    assert_eq!(line_column("ab\ncd", 4), (2, 2));
    assert_eq!(line_column("é\nx", 3), (2, 1));
}

#[test]
fn long_and_deep_expressions_are_refused_not_crashed_on() {
    let long_chain = vec!["1"; MAX_EXPRESSION_CHARS / 2].join("+");
    let parens = format!("{}true{}", "(".repeat(2000), ")".repeat(2000));
    let lists = format!("{}1{}", "[".repeat(2000), "]".repeat(2000));
    for source in [long_chain, parens, lists] {
        assert!(Policy::compile(&source).is_err(), "{}", &source[..20]);
    }
    // As deep as is accepted still evaluates on an ordinary thread's stack.
    let deep = format!("{}true{}", "(!".repeat(15), ")".repeat(15));
    let policy = Policy::compile(&deep).unwrap_or_else(|e| panic!("{e}"));
    assert!(!policy.evaluate(&activation(), Limits::default()).allow);
}

#[test]
fn the_readme_example_decides_as_documented() {
    let source = "client.domain_admin ? true : token.kind == 'refresh' ? {'allow': true, 'revoke_level': \
                  'RELATED_TOKENS', 'reason': 'refresh token revoked: family ended'} : !(token.expires_at < now \
                  && request.revoke_level != 'NONE')";
    let policy = Policy::compile(source).unwrap_or_else(|e| panic!("{e}"));
    let decision = policy.evaluate(&activation(), Limits::default());
    assert_eq!(decision.revoke_level, Some(RevokeLevel::RelatedTokens));
    assert_eq!(
        decision.reason.as_ref().map(Reason::as_str),
        Some("refresh token revoked: family ended")
    );
    let mut expired_access = activation();
    expired_access.token.kind = TokenKind::Access;
    expired_access.now = at(9_000);
    assert!(policy.evaluate(&expired_access, Limits::default()).allow);
    expired_access.request.revoke_level = RevokeLevel::RelatedConsent;
    assert!(!policy.evaluate(&expired_access, Limits::default()).allow);
    expired_access.client.domain_admin = true;
    assert!(policy.evaluate(&expired_access, Limits::default()).allow);
}

#[test]
fn the_worst_nesting_that_fits_the_length_limit_is_refused() {
    let half = MAX_EXPRESSION_CHARS / 2;
    for (open, close) in [("(", ")"), ("[", "]"), ("{1:", "}"), ("f(", ")"), ("-", ""), ("!", "")] {
        let n = (MAX_EXPRESSION_CHARS - 1) / (open.len() + close.len());
        let source = format!("{}1{}", open.repeat(n), close.repeat(n));
        assert!(source.chars().count() <= MAX_EXPRESSION_CHARS);
        let _ = Policy::compile(&source);
    }
    let ternaries = format!("{}1{}", "true ? 1 : (".repeat(half / 13), ")".repeat(half / 13));
    assert!(Policy::compile(&ternaries).is_err());
}

#[test]
fn the_deepest_accepted_expressions_evaluate_on_an_ordinary_stack() {
    let shapes: [&dyn Fn(usize) -> String; 4] = [
        &|n| vec!["1"; n + 1].join(" + ") + " > 0",
        &|n| format!("size({}1{}) > 0", "[".repeat(n), "]".repeat(n)),
        &|n| format!("{}true{}", "(true && ".repeat(n), ")".repeat(n)),
        &|n| format!("{}true{}", "[true].all(x, ".repeat(n), ")".repeat(n)),
    ];
    for shape in shapes {
        let deepest = (1..200)
            .map(shape)
            .take_while(|source| Policy::compile(source).is_ok())
            .last()
            .unwrap_or_default();
        assert!(!deepest.is_empty());
        let policy = Policy::compile(&deepest).unwrap_or_else(|e| panic!("{e}"));
        // Half of a request thread's stack, to leave room for what lies below.
        let decision = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || policy.evaluate(&activation(), Limits::default()))
            .and_then(|thread| thread.join().map_err(|_| std::io::Error::other("panicked")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(decision.allow, "{deepest}: {decision:?}");
    }
}

#[test]
fn extreme_times_fail_safe_rather_than_crash() {
    let mut far = activation();
    far.token.expires_at = DateTime::<Utc>::MAX_UTC;
    far.now = DateTime::<Utc>::MIN_UTC;
    for source in [
        "token.expires_at - now > duration('1s')",
        "now + duration('-1s') < token.issued_at",
        "token.expires_at + duration('87600h') > now",
    ] {
        let policy = Policy::compile(source).unwrap_or_else(|e| panic!("{e}"));
        let decision = policy.evaluate(&far, Limits::default());
        assert!(decision.allow || decision.error.is_none(), "{source}: {decision:?}");
    }
}
