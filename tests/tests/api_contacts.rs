//! The contacts API over real HTTP, on the embedded store and on DynamoDB (moto).

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Caller, TestApp, error_code, send};

on_both_backends!(
    create_read_update_delete,
    upsert_matches_the_same_number_written_differently,
    list_pages_through_every_contact_once,
    search_by_phone_and_name_prefix,
    tenants_never_see_each_other,
    bad_input_gets_clear_errors,
    authentication_is_required_and_revocation_is_immediate,
    phone_numbers_stay_unique,
);

fn ada() -> Value {
    json!({
        "phone": "(415) 555-2671",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "tags": ["vip"],
        "attributes": {"city": "London"},
        "consent": {"status": "explicit", "source": "web form"}
    })
}

async fn create_read_update_delete(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let (status, created) = app.post_contact(&me, ada()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["phone"], "+14155552671");
    assert_eq!(created["consent"]["status"], "explicit");
    assert_eq!(created["consent"]["source"], "web form");
    assert!(created["consent"]["at"].is_string());
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/contacts/{id}");

    let (status, fetched) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!((status, &fetched), (200, &created));

    let (status, patched) = send(
        app.request(Method::PATCH, &path, &me)
            .json(&json!({"last_name": "King", "email": null, "tags": ["a", "b"]})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["last_name"], "King");
    assert_eq!(patched["email"], Value::Null);
    assert_eq!(patched["first_name"], "Ada");
    assert_eq!(patched["tags"], json!(["a", "b"]));
    assert_eq!(patched["created_at"], created["created_at"]);
    let (_, again) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!(again, patched);

    let (status, _) = send(app.request(Method::DELETE, &path, &me)).await;
    assert_eq!(status, 204);
    let (status, body) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, _) = send(app.request(Method::DELETE, &path, &me)).await;
    assert_eq!(status, 404);
    // The number is free again.
    let (status, _) = app.post_contact(&me, ada()).await;
    assert_eq!(status, 201);
}

async fn upsert_matches_the_same_number_written_differently(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let (_, first) = app.post_contact(&me, ada()).await;
    let (status, second) = app
        .post_contact(
            &me,
            json!({"phone": "+1 415.555.2671", "first_name": "Augusta"}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["first_name"], "Augusta");
    // Fields not sent are kept.
    assert_eq!(second["last_name"], "Lovelace");
    assert_eq!(second["consent"], first["consent"]);
    let (_, list) = send(app.request(Method::GET, "/v1/contacts", &me)).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

async fn create_many(app: &TestApp, me: &Caller, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (status, body) = app
            .post_contact(me, json!({"phone": format!("+1415555{:04}", 1000 + i), "first_name": format!("P{i:02}")}))
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    ids
}

async fn list_pages_through_every_contact_once(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let ids = create_many(app, &me, 23).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/contacts?limit=7&cursor={c}"),
            None => "/v1/contacts?limit=7".to_owned(),
        };
        let (status, page) = send(app.request(Method::GET, &path, &me)).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 7);
        seen.extend(
            items
                .iter()
                .map(|c| c["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        assert!(pages < 10, "paging does not end");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    // Creation order, each exactly once.
    assert_eq!(seen, ids);
}

async fn search_by_phone_and_name_prefix(app: &TestApp) {
    let me = app.tenant("Acme").await;
    for (phone, first, last) in [
        ("+14155550101", "Grace", "Hopper"),
        ("+14155550102", "Graham", "Bell"),
        ("+12125550103", "Ada", "Lovelace"),
        ("+447911123456", "Alan", "Turing"),
    ] {
        let (status, _) = app
            .post_contact(
                &me,
                json!({"phone": phone, "first_name": first, "last_name": last}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["first_name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let search = |q: &str| {
        let q = q.replace('+', "%2B").replace(' ', "%20");
        send(app.request(Method::GET, &format!("/v1/contacts?q={q}"), &me))
    };
    assert_eq!(names(&search("+1415").await.1), ["Grace", "Graham"]);
    assert_eq!(names(&search("(415) 555").await.1), ["Grace", "Graham"]);
    assert_eq!(names(&search("+44").await.1), ["Alan"]);
    assert_eq!(names(&search("gra").await.1), ["Grace", "Graham"]);
    assert_eq!(names(&search("GRACE H").await.1), ["Grace"]);
    assert_eq!(names(&search("zed").await.1), Vec::<String>::new());
}

async fn tenants_never_see_each_other(app: &TestApp) {
    let a = app.tenant("A").await;
    let b = app.tenant("B").await;
    let (_, b_contact) = app.post_contact(&b, ada()).await;
    let b_path = format!("/v1/contacts/{}", b_contact["id"].as_str().expect("id"));

    // Every route, with A's key, on B's contact.
    let (status, body) = send(app.request(Method::GET, &b_path, &a)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, _) = send(
        app.request(Method::PATCH, &b_path, &a)
            .json(&json!({"first_name": "Mallory"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(app.request(Method::DELETE, &b_path, &a)).await;
    assert_eq!(status, 404);
    let (_, list) = send(app.request(Method::GET, "/v1/contacts", &a)).await;
    assert_eq!(list["items"], json!([]));
    let (_, found) = send(app.request(Method::GET, "/v1/contacts?q=%2B1415", &a)).await;
    assert_eq!(found["items"], json!([]));
    let (_, found) = send(app.request(Method::GET, "/v1/contacts?q=ada", &a)).await;
    assert_eq!(found["items"], json!([]));
    // The same number in A is A's own contact, not B's.
    let (status, a_contact) = app.post_contact(&a, json!({"phone": "+14155552671"})).await;
    assert_eq!(status, 201);
    assert_ne!(a_contact["id"], b_contact["id"]);
    // A tenant id in the body is refused, never used.
    let (status, body) = app
        .post_contact(
            &a,
            json!({"phone": "+14155550000", "tenant_id": b.tenant_id}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));
    // B's cursor does not open A's partition (or the reverse).
    create_many(app, &b, 3).await;
    let (_, page) = send(app.request(Method::GET, "/v1/contacts?limit=1", &b)).await;
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let (status, body) =
        send(app.request(Method::GET, &format!("/v1/contacts?cursor={cursor}"), &a)).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"));
    // Nor does a list's cursor continue a search (by phone, by name) of the same tenant.
    for q in ["%2B1415", "ada"] {
        let path = format!("/v1/contacts?q={q}&cursor={cursor}");
        let (status, body) = send(app.request(Method::GET, &path, &b)).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_cursor"),
            "q={q}"
        );
    }

    // B's contact is untouched.
    let (_, after) = send(app.request(Method::GET, &b_path, &b)).await;
    assert_eq!(after, b_contact);
}

async fn bad_input_gets_clear_errors(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let raw = |body: &'static str| {
        app.request(Method::POST, "/v1/contacts", &me)
            .header("content-type", "application/json")
            .body(body)
    };
    let (status, body) = send(raw("{\"phone\": ")).await;
    assert_eq!((status, error_code(&body)), (400, "malformed_json"));
    let (status, body) = send(raw("{\"phone\": 4155552671}")).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));
    let (status, body) = send(raw("{\"phone\": \"+14155552671\", \"nickname\": \"x\"}")).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nickname")),
        "{body}"
    );
    let (status, body) = send(raw("[]")).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));
    let (status, body) = send(raw("{}")).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));

    for (phone, _why) in [
        ("12", "too short"),
        ("+1 415 555", "incomplete"),
        ("call me", "no digits"),
    ] {
        let (status, body) = app.post_contact(&me, json!({"phone": phone})).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{phone}: {body}"
        );
        assert_eq!(body["error"]["details"]["field"], "phone");
        assert!(
            body["error"]["details"]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
    }
    let (status, body) = app
        .post_contact(&me, json!({"phone": "+14155552671", "email": "nope"}))
        .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (400, Some("email"))
    );

    let big = format!(
        "{{\"phone\":\"+14155552671\",\"first_name\":\"{}\"}}",
        "a".repeat(1024 * 1024 + 1)
    );
    let (status, body) = send(
        app.request(Method::POST, "/v1/contacts", &me)
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"));

    let (status, body) = send(app.request(Method::POST, "/v1/contacts", &me).body("{}")).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"));
    let (status, body) = send(app.request(Method::GET, "/v1/contacts?limit=0", &me)).await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (400, Some("limit"))
    );
    let (status, body) = send(app.request(Method::GET, "/v1/contacts?limit=many", &me)).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_query"));
    let (status, body) = send(app.request(Method::GET, "/v1/contacts?cursor=garbage", &me)).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"));
    let (status, body) = send(app.request(Method::GET, "/v1/contacts/not-an-id", &me)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    // Not UTF-8 once decoded: still a JSON error.
    let (status, body) = send(app.request(Method::GET, "/v1/contacts/%FF", &me)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = send(app.request(Method::GET, "/v1/nothing-here", &me)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = send(app.request(Method::PUT, "/v1/contacts", &me)).await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));

    // Nothing was stored by any of it.
    let (_, list) = send(app.request(Method::GET, "/v1/contacts", &me)).await;
    assert_eq!(list["items"], json!([]));
    let (status, health) = send(app.anonymous(Method::GET, "/health")).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
}

async fn authentication_is_required_and_revocation_is_immediate(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let (status, body) = send(app.anonymous(Method::GET, "/v1/contacts")).await;
    assert_eq!((status, error_code(&body)), (401, "unauthorized"));
    for header in [
        "Bearer nope",
        "Basic abc",
        "Bearer smscrm_key_x_y",
        "Bearer",
    ] {
        let (status, _) = send(
            app.anonymous(Method::GET, "/v1/contacts")
                .header("authorization", header),
        )
        .await;
        assert_eq!(status, 401, "{header}");
    }
    let tenant: smscrm_domain::TenantId = me.tenant_id.parse().expect("tenant id");
    let second = app
        .ctx
        .api_keys
        .create(
            &tenant,
            "second",
            vec![smscrm_domain::apikey::Scope::Read],
            chrono::Utc::now(),
        )
        .await
        .expect("second key");
    let second_caller = Caller {
        tenant_id: me.tenant_id.clone(),
        key: second.plaintext.clone(),
    };
    let (status, _) = send(app.request(Method::GET, "/v1/contacts", &second_caller)).await;
    assert_eq!(status, 200);
    app.ctx
        .api_keys
        .revoke(&tenant, &second.key.id, chrono::Utc::now())
        .await
        .expect("revoke");
    let (status, _) = send(app.request(Method::GET, "/v1/contacts", &second_caller)).await;
    assert_eq!(status, 401);
    // The tenant's other key still works.
    let (status, _) = send(app.request(Method::GET, "/v1/contacts", &me)).await;
    assert_eq!(status, 200);
}

async fn phone_numbers_stay_unique(app: &TestApp) {
    let me = app.tenant("Acme").await;
    // Concurrent creates of one number end in one contact.
    let creates = (0..8).map(|i| {
        app.post_contact(
            &me,
            json!({"phone": "+14155559999", "first_name": format!("N{i}")}),
        )
    });
    let results = futures::future::join_all(creates).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{results:?}");
    assert!(
        results.iter().all(|(s, _)| *s == 201 || *s == 200),
        "{results:?}"
    );
    let ids: std::collections::HashSet<_> = results.iter().map(|(_, b)| b["id"].clone()).collect();
    assert_eq!(ids.len(), 1);

    // Moving a contact onto a taken number is a conflict; onto a free one works.
    let (_, other) = app
        .post_contact(&me, json!({"phone": "+14155558888"}))
        .await;
    let path = format!("/v1/contacts/{}", other["id"].as_str().expect("id"));
    let (status, body) = send(
        app.request(Method::PATCH, &path, &me)
            .json(&json!({"phone": "+14155559999"})),
    )
    .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, moved) = send(
        app.request(Method::PATCH, &path, &me)
            .json(&json!({"phone": "415 555 7777"})),
    )
    .await;
    assert_eq!(
        (status, moved["phone"].as_str()),
        (200, Some("+14155557777"))
    );
    // The old number is free, the new one is taken.
    let (status, _) = app
        .post_contact(&me, json!({"phone": "+14155558888"}))
        .await;
    assert_eq!(status, 201);
    let (status, same) = app
        .post_contact(&me, json!({"phone": "+14155557777"}))
        .await;
    assert_eq!((status, &same["id"]), (200, &other["id"]));
}
