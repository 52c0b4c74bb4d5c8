//! The templates API over real HTTP, on the embedded store and on DynamoDB (moto).

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Caller, TestApp, error_code, send};

on_both_backends!(
    create_read_update_delete,
    unknown_variables_are_refused_until_a_contact_has_them,
    preview_renders_for_a_contact_with_fallbacks_and_footer,
    preview_counts_segments_and_offers_gsm_replacements,
    preview_names_a_missing_variable,
    tenants_never_see_each_other,
    bad_input_gets_clear_errors,
);

async fn post_template(app: &TestApp, me: &Caller, body: Value) -> (u16, Value) {
    send(app.request(Method::POST, "/v1/templates", me).json(&body)).await
}

async fn preview(app: &TestApp, me: &Caller, body: Value) -> (u16, Value) {
    send(
        app.request(Method::POST, "/v1/templates/preview", me)
            .json(&body),
    )
    .await
}

async fn create_read_update_delete(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let (status, created) = post_template(
        app,
        &me,
        json!({"name": " Spring sale ", "body": "Hi {{first_name|there}}, 20% off: {{link}}"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Spring sale");
    assert_eq!(created["variables"], json!(["first_name", "link"]));
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/templates/{id}");

    let (status, fetched) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!((status, &fetched), (200, &created));

    let (status, patched) = send(
        app.request(Method::PATCH, &path, &me)
            .json(&json!({"body": "Last day, {{last_name|friend}}!"})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Spring sale");
    assert_eq!(patched["variables"], json!(["last_name"]));
    assert_eq!(patched["created_at"], created["created_at"]);

    let (status, second) = post_template(app, &me, json!({"name": "B", "body": "b"})).await;
    assert_eq!(status, 201, "{second}");
    let (status, page) = send(app.request(Method::GET, "/v1/templates?limit=1", &me)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["id"], created["id"]);
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let (_, rest) = send(app.request(
        Method::GET,
        &format!("/v1/templates?limit=1&cursor={cursor}"),
        &me,
    ))
    .await;
    assert_eq!(rest["items"][0]["id"], second["id"]);

    let (status, _) = send(app.request(Method::DELETE, &path, &me)).await;
    assert_eq!(status, 204);
    let (status, body) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, _) = send(app.request(Method::DELETE, &path, &me)).await;
    assert_eq!(status, 404);
}

async fn unknown_variables_are_refused_until_a_contact_has_them(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let body = json!({"name": "Tiers", "body": "{{frist_name}}, you are {{tier}}"});
    let (status, refused) = post_template(app, &me, body.clone()).await;
    assert_eq!((status, error_code(&refused)), (422, "unknown_variable"));
    assert_eq!(
        refused["error"]["details"]["variables"],
        json!(["frist_name", "tier"])
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("{{frist_name}}")),
        "{refused}"
    );

    // Once a contact has the attribute, only the typo is left.
    let (status, _) = app
        .post_contact(
            &me,
            json!({"phone": "+14155552671", "attributes": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, refused) = post_template(app, &me, body).await;
    assert_eq!(status, 422);
    assert_eq!(
        refused["error"]["details"]["variables"],
        json!(["frist_name"])
    );
    let (status, created) = post_template(
        app,
        &me,
        json!({"name": "Tiers", "body": "{{first_name}}, you are {{tier}}"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
}

async fn preview_renders_for_a_contact_with_fallbacks_and_footer(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let (_, ada) = app
        .post_contact(
            &me,
            json!({"phone": "+14155552671", "first_name": "Ada", "attributes": {"tier": "gold"}}),
        )
        .await;
    let (_, anon) = app
        .post_contact(&me, json!({"phone": "+14155552672"}))
        .await;
    let (_, template) = post_template(
        app,
        &me,
        json!({"name": "T", "body": "Hi {{first_name|there}} ({{tier|member}}): {{link}}"}),
    )
    .await;
    let request = |contact: &Value, first_message: bool| {
        json!({
            "template_id": template["id"], "contact_id": contact["id"],
            "link": "https://acme.example/sale", "first_message": first_message,
        })
    };

    let (status, shown) = preview(app, &me, request(&ada, true)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown["text"],
        "Hi Ada (gold): https://acme.example/sale\nReply STOP to opt out"
    );
    assert_eq!(shown["footer_applied"], true);
    assert_eq!(shown["encoding"], "GSM-7");
    assert_eq!(shown["segments"], 1);

    let (_, shown) = preview(app, &me, request(&anon, false)).await;
    assert_eq!(
        shown["text"],
        "Hi there (member): https://acme.example/sale"
    );
    assert_eq!(shown["footer_applied"], false);

    // Sample data instead of a stored contact.
    let (status, shown) = preview(
        app,
        &me,
        json!({"body": "Hi {{first_name}} {{tier}}", "sample": {"attributes": {"tier": "vip"}},
               "first_message": false}),
    )
    .await;
    assert_eq!((status, shown["text"].as_str()), (200, Some("Hi Alex vip")));
}

async fn preview_counts_segments_and_offers_gsm_replacements(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let text = format!("It’s {}", "a".repeat(150));
    let (status, shown) = preview(app, &me, json!({"body": text, "first_message": false})).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["encoding"], "UCS-2");
    assert_eq!(shown["characters"], 155);
    assert_eq!(shown["segments"], 3);
    assert_eq!(shown["non_gsm_characters"], json!(["’"]));
    assert_eq!(shown["replacements"][0]["to"], "'");
    assert_eq!(shown["gsm_safe"]["encoding"], "GSM-7");
    assert_eq!(shown["gsm_safe"]["segments"], 1);
    assert_eq!(
        shown["gsm_safe"]["text"],
        format!("It's {}", "a".repeat(150))
    );

    // The footer counts: 150 characters alone fit one segment, with the footer they do not.
    let (_, alone) = preview(
        app,
        &me,
        json!({"body": "a".repeat(150), "first_message": false}),
    )
    .await;
    let (_, footed) = preview(app, &me, json!({"body": "a".repeat(150)})).await;
    assert_eq!(
        (alone["segments"].as_u64(), footed["segments"].as_u64()),
        (Some(1), Some(2))
    );
}

async fn preview_names_a_missing_variable(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let (_, contact) = app
        .post_contact(&me, json!({"phone": "+14155552671"}))
        .await;
    let (status, refused) = preview(
        app,
        &me,
        json!({"body": "Hi {{first_name}}", "contact_id": contact["id"]}),
    )
    .await;
    assert_eq!((status, error_code(&refused)), (422, "missing_variable"));
    assert_eq!(refused["error"]["details"]["variable"], "first_name");

    // Sample values and links have a contact's and a campaign's limits: a preview renders no
    // more than a send would (a megabyte repeated by a long body took the server's time).
    let body = "{{first_name}} ".repeat(100);
    let oversized = [
        (json!({"first_name": "x".repeat(101)}), "sample.first_name"),
        (
            json!({"attributes": {"tier": "x".repeat(4001)}}),
            "sample.attributes.tier",
        ),
    ];
    for (sample, field) in oversized {
        let (status, refused) = preview(app, &me, json!({"body": body, "sample": sample})).await;
        assert_eq!((status, error_code(&refused)), (400, "invalid_field"));
        assert_eq!(refused["error"]["details"]["field"], field, "{refused}");
    }
    let (status, refused) = preview(
        app,
        &me,
        json!({"body": "{{link}}", "link": "javascript:alert(1)"}),
    )
    .await;
    assert_eq!((status, error_code(&refused)), (400, "invalid_field"));
    assert_eq!(refused["error"]["details"]["field"], "link");
}

async fn tenants_never_see_each_other(app: &TestApp) {
    let acme = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let (_, template) = post_template(app, &acme, json!({"name": "A", "body": "a"})).await;
    let path = format!("/v1/templates/{}", template["id"].as_str().expect("id"));
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let mut request = app.request(method.clone(), &path, &other);
        if method == Method::PATCH {
            request = request.json(&json!({"name": "stolen"}));
        }
        let (status, _) = send(request).await;
        assert_eq!(status, 404, "{method}");
    }
    let (_, listed) = send(app.request(Method::GET, "/v1/templates", &other)).await;
    assert_eq!(listed["items"], json!([]));
    let (status, _) = preview(app, &other, json!({"template_id": template["id"]})).await;
    assert_eq!(status, 404);
    // Another tenant's contact attributes do not make a variable known.
    app.post_contact(
        &acme,
        json!({"phone": "+14155552671", "attributes": {"tier": "x"}}),
    )
    .await;
    let (status, _) = post_template(app, &other, json!({"name": "B", "body": "{{tier}}"})).await;
    assert_eq!(status, 422);
    let (_, still) = send(app.request(Method::GET, &path, &acme)).await;
    assert_eq!(still["name"], "A");
}

async fn bad_input_gets_clear_errors(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let cases = [
        (json!({"name": "", "body": "x"}), 400, "invalid_field"),
        (
            json!({"name": "A", "body": "Hi {{first_name"}),
            400,
            "invalid_field",
        ),
        (
            json!({"name": "A", "body": "a".repeat(1601)}),
            400,
            "invalid_field",
        ),
        (json!({"name": "A"}), 422, "invalid_body"),
        (
            json!({"name": "A", "body": "x", "tenant_id": "tn_x"}),
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = post_template(app, &me, body.clone()).await;
        assert_eq!(
            (got, error_code(&answer)),
            (status, code),
            "{body}: {answer}"
        );
    }
    let (status, answer) = preview(app, &me, json!({"first_message": true})).await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, "invalid_field"),
        "{answer}"
    );
    let (status, _) = send(app.request(Method::GET, "/v1/templates/nope", &me)).await;
    assert_eq!(status, 404);
    let (status, _) = send(app.anonymous(Method::GET, "/v1/templates")).await;
    assert_eq!(status, 401);
}
