//! Bulk contact import at the repository level, on both backends: counts, merging,
//! idempotency, do-not-contact suppression, and recovery from a crash half-way.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::ports::Table;
use smscrm_domain::{ConsentStatus, ContactId, ContactMerge, PhoneE164, Tenant, TenantId};
use smscrm_store::contact_import::{Plan, Preclaimed};
use smscrm_store::{AttributeNames, Contacts, DoNotContact, ImportCounts, Suppression, Tenants};

smscrm_tests::table_scenarios!(
    counts_merges_and_is_idempotent,
    dry_run_counts_without_writing,
    numbers_on_the_do_not_contact_list_are_counted_as_suppressed,
    a_crash_between_claims_and_contacts_never_duplicates,
    batches_larger_than_one_store_call,
    imported_attribute_names_become_template_variables,
    batches_written_at_once_record_every_attribute_name,
    phones_claimed_ahead_keep_existing_contacts_and_survive_a_crash,
    phones_claimed_ahead_among_many_other_claims,
    an_api_write_during_an_import_is_merged_not_overwritten,
    a_phone_an_unfinished_import_claimed_is_refused_for_what_it_is,
    consent_in_a_file_never_lifts_an_opt_out,
    a_listed_opt_out_reaches_an_existing_contact,
    a_deleted_contact_who_opted_out_stays_suppressed,
    two_imports_of_the_same_phones_at_once_make_one_contact_each,
    an_api_create_between_an_imports_plan_and_its_write_makes_one_contact,
);

async fn tenant(table: &Arc<dyn Table>) -> TenantId {
    let tenant = Tenant::new("Importer", "UTC", "US", Utc::now()).expect("tenant");
    Tenants::new(table.clone())
        .create(&tenant)
        .await
        .expect("create");
    tenant.id
}

fn row(phone: &str, first: &str, tags: &[&str]) -> ContactMerge {
    ContactMerge {
        phone: PhoneE164::from_e164(phone).expect("e164"),
        first_name: Some(first.into()),
        last_name: None,
        email: None,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        attributes: BTreeMap::from([("store".to_owned(), "north".to_owned())]),
        consent: None,
    }
}

fn counts(created: u64, updated: u64, unchanged: u64, suppressed: u64) -> ImportCounts {
    ImportCounts {
        created,
        updated,
        unchanged,
        suppressed,
        opt_outs_kept: 0,
    }
}

async fn counts_merges_and_is_idempotent(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let rows = vec![
        row("+14155550001", "Ann", &["a"]),
        row("+14155550002", "Bob", &[]),
    ];
    let first = contacts
        .import_batch(&t, &rows, Utc::now(), true)
        .await
        .expect("import");
    assert_eq!(first, counts(2, 0, 0, 0));
    let again = contacts
        .import_batch(&t, &rows, Utc::now(), true)
        .await
        .expect("re-import");
    assert_eq!(again, counts(0, 0, 2, 0), "re-importing changes nothing");

    let mut changed = row("+14155550001", "Annie", &["b"]);
    changed.consent = Some(ConsentInput {
        status: ConsentStatus::Explicit,
        source: Some("spring fair".into()),
    });
    let merged = contacts
        .import_batch(&t, &[changed], Utc::now(), true)
        .await
        .expect("merge");
    assert_eq!(merged, counts(0, 1, 0, 0));
    let ann = contacts
        .find_by_phone(&t, &PhoneE164::from_e164("+14155550001").expect("e164"))
        .await
        .expect("read")
        .expect("ann");
    assert_eq!(ann.first_name.as_deref(), Some("Annie"));
    assert_eq!(ann.tags, ["a", "b"], "tags are added, not replaced");
    assert_eq!(ann.consent.status, ConsentStatus::Explicit);
    // The API sees imported contacts and can still edit them (versions were kept).
    let page = contacts.list(&t, None, 10).await.expect("list");
    assert_eq!(page.items.len(), 2);
}

async fn dry_run_counts_without_writing(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    contacts
        .import_batch(&t, &[row("+14155550001", "Ann", &[])], Utc::now(), true)
        .await
        .expect("seed");
    let rows = vec![
        row("+14155550001", "Anna", &[]),
        row("+14155550003", "Cy", &[]),
    ];
    let dry = contacts
        .import_batch(&t, &rows, Utc::now(), false)
        .await
        .expect("dry run");
    assert_eq!(dry, counts(1, 1, 0, 0));
    let page = contacts.list(&t, None, 10).await.expect("list");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].first_name.as_deref(), Some("Ann"));
}

/// Templates may use `{{store}}` once imported contacts have it; a dry run records nothing.
async fn imported_attribute_names_become_template_variables(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let names = AttributeNames::new(table.clone());
    let rows = [row("+14155550001", "Ann", &[])];
    contacts
        .import_batch(&t, &rows, Utc::now(), false)
        .await
        .expect("dry run");
    assert!(names.all(&t).await.expect("names").is_empty());
    contacts
        .import_batch(&t, &rows, Utc::now(), true)
        .await
        .expect("import");
    let known = names.all(&t).await.expect("names");
    assert_eq!(known.into_iter().collect::<Vec<_>>(), ["store"]);
}

/// Lists `phone` as its owner's opt-out, as a STOP reply does.
async fn list_opted_out(
    table: &Arc<dyn Table>,
    t: &TenantId,
    phone: &PhoneE164,
    source: Option<&str>,
) {
    let entry = Suppression {
        phone: phone.clone(),
        reason: "stop_reply".into(),
        at: Utc::now(),
        source: source.map(str::to_owned),
    };
    DoNotContact::new(table.clone())
        .add(t, &entry)
        .await
        .expect("add dnc");
}

/// The import writer writes the batches waiting for it at once: every batch's attribute
/// names become template variables, not only the first's.
async fn batches_written_at_once_record_every_attribute_name(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let with_attribute = |phone: &str, name: &str| ContactMerge {
        attributes: BTreeMap::from([(name.to_owned(), "x".to_owned())]),
        ..row(phone, "Ann", &[])
    };
    let mut plan = Plan::default();
    for (phone, name) in [("+14155550001", "city"), ("+14155550002", "plan")] {
        let batch = contacts
            .plan_import(&t, &[with_attribute(phone, name)], Utc::now(), &[], true)
            .await
            .expect("plan");
        plan.absorb(batch);
    }
    contacts.write_import(&t, plan).await.expect("write");
    let names = AttributeNames::new(table.clone());
    let known = names.all(&t).await.expect("names");
    assert_eq!(known.into_iter().collect::<Vec<_>>(), ["city", "plan"]);
    assert_eq!(count_contacts(&contacts, &t).await, 2);
}

async fn numbers_on_the_do_not_contact_list_are_counted_as_suppressed(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let phone = PhoneE164::from_e164("+14155550002").expect("e164");
    list_opted_out(&table, &t, &phone, None).await;
    let contacts = Contacts::new(table.clone());
    let rows = vec![
        row("+14155550001", "Ann", &[]),
        row("+14155550002", "Bob", &[]),
    ];
    let done = contacts
        .import_batch(&t, &rows, Utc::now(), true)
        .await
        .expect("import");
    assert_eq!(done, counts(2, 0, 0, 1));
    // Imported all the same, and still suppressed; the contact says its owner opted out.
    let bob = contacts
        .find_by_phone(&t, &phone)
        .await
        .expect("read")
        .expect("imported");
    assert_eq!(bob.consent.status, ConsentStatus::Revoked);
    assert_eq!(
        bob.consent.source.as_deref(),
        Some("on the do-not-contact list")
    );
    assert!(
        DoNotContact::new(table.clone())
            .get(&t, &phone)
            .await
            .expect("dnc")
            .is_some()
    );
    // The same rows again: unchanged, and the listed number still counts as suppressed, in
    // a dry run as in a commit.
    for commit in [false, true] {
        let again = contacts
            .import_batch(&t, &rows, Utc::now(), commit)
            .await
            .expect("import again");
        assert_eq!(again, counts(0, 0, 2, 1), "commit: {commit}");
    }
}

async fn a_crash_between_claims_and_contacts_never_duplicates(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    // What a crash after the claims and before the contacts leaves behind: a bare claim.
    let orphan = smscrm_domain::ContactId::generate();
    let mut claim = serde_json::Map::new();
    claim.insert("pk".into(), format!("TENANT#{t}").into());
    claim.insert("sk".into(), "PHONE#+14155550001".into());
    claim.insert("contact_id".into(), orphan.to_string().into());
    claim.insert("type".into(), "phone_claim".into());
    table.put(claim, None).await.expect("orphan claim");

    let done = contacts
        .import_batch(&t, &[row("+14155550001", "Ann", &[])], Utc::now(), true)
        .await
        .expect("re-run");
    assert_eq!(done, counts(1, 0, 0, 0));
    let page = contacts.list(&t, None, 10).await.expect("list");
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].id, orphan,
        "the claimed id is completed, not replaced"
    );

    // The API's create-or-update path completes an orphan the same way.
    let orphan2 = smscrm_domain::ContactId::generate();
    let mut claim = serde_json::Map::new();
    claim.insert("pk".into(), format!("TENANT#{t}").into());
    claim.insert("sk".into(), "PHONE#+14155550009".into());
    claim.insert("contact_id".into(), orphan2.to_string().into());
    table.put(claim, None).await.expect("orphan claim");
    let draft: smscrm_domain::ContactDraft =
        serde_json::from_value(serde_json::json!({"phone": "+14155550009"})).expect("draft");
    let region = "US".parse().expect("region");
    let (contact, created) = contacts
        .upsert_by_phone(&t, draft.validate(region).expect("valid"), Utc::now())
        .await
        .expect("upsert");
    assert!(created);
    assert_eq!(contact.id, orphan2);
}

async fn batches_larger_than_one_store_call(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let rows: Vec<_> = (0..250)
        .map(|i| row(&format!("+1415555{:04}", 1000 + i), &format!("P{i}"), &[]))
        .collect();
    let done = contacts
        .import_batch(&t, &rows, Utc::now(), true)
        .await
        .expect("import");
    assert_eq!(done, counts(250, 0, 0, 0));
    assert_eq!(count_contacts(&contacts, &t).await, 250);
}

async fn count_contacts(contacts: &Contacts, t: &TenantId) -> usize {
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let page = contacts.list(t, cursor, 100).await.expect("list");
        seen += page.items.len();
        cursor = page.next_cursor;
        if cursor.is_none() {
            return seen;
        }
    }
}

fn propose(rows: &[ContactMerge]) -> (Preclaimed, Vec<ContactId>) {
    let mut proposed = Preclaimed::default();
    let ids: Vec<ContactId> = rows.iter().map(|_| ContactId::generate()).collect();
    for (row, id) in rows.iter().zip(&ids) {
        proposed.propose(&row.phone, id);
    }
    (proposed, ids)
}

async fn phones_claimed_ahead_keep_existing_contacts_and_survive_a_crash(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    contacts
        .import_batch(&t, &[row("+14155551000", "Ann", &[])], Utc::now(), true)
        .await
        .expect("seed");
    let ann = contacts
        .find_by_phone(&t, &PhoneE164::from_e164("+14155551000").expect("e164"))
        .await
        .expect("read")
        .expect("ann");
    // More phones than one round of claim reads, in no particular order; Ann's among them.
    let rows: Vec<_> = (0..550)
        .map(|i| {
            row(
                &format!("+1415555{:04}", 1000 + (i * 7) % 550),
                &format!("P{i}"),
                &[],
            )
        })
        .collect();

    // A run claims every phone, then crashes before writing a single contact.
    let (proposed, crashed_ids) = propose(&rows);
    let claimed = contacts.preclaim(&t, proposed).await.expect("preclaim");
    assert_eq!(claimed.len(), 550);
    let list = contacts.list(&t, None, 10).await.expect("list");
    assert_eq!(list.items.len(), 1, "claims alone are no contacts");

    // The re-run proposes new ids, keeps the claims there, and completes them.
    let (proposed, _) = propose(&rows);
    let claimed = contacts
        .preclaim(&t, proposed)
        .await
        .expect("preclaim again");
    let mut done = ImportCounts::default();
    for (n, batch) in rows.chunks(200).enumerate() {
        done.add(
            contacts
                .import_preclaimed(&t, batch, Utc::now(), true, claimed.slice(n * 200, 200))
                .await
                .expect("import"),
        );
    }
    assert_eq!(done, counts(549, 1, 0, 0));
    let renamed = contacts.get(&t, &ann.id).await.expect("read").expect("ann");
    assert_eq!(renamed.first_name.as_deref(), Some("P0"), "Ann kept her id");
    let first_new = contacts
        .find_by_phone(&t, &rows[1].phone)
        .await
        .expect("read")
        .expect("created");
    assert_eq!(
        first_new.id, crashed_ids[1],
        "the first run's claim is completed"
    );

    // Nothing is duplicated: every phone has one contact, and a plain re-import changes nothing.
    let again = contacts
        .import_batch(&t, &rows[..100], Utc::now(), true)
        .await
        .expect("re-import");
    assert_eq!(again, counts(0, 0, 100, 0));
    assert_eq!(count_contacts(&contacts, &t).await, 550);
}

async fn phones_claimed_ahead_among_many_other_claims(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    // More claims than one page of a range read between the phones claimed below.
    let others: Vec<_> = (0..1100)
        .map(|i| row(&format!("+1415556{:04}", i), &format!("O{i}"), &[]))
        .collect();
    for batch in others.chunks(500) {
        contacts
            .import_batch(&t, batch, Utc::now(), true)
            .await
            .expect("seed");
    }
    let rows = vec![
        row("+14155550999", "Before", &[]),
        row("+14155560500", "Taken", &[]),
        row("+14155569999", "After", &[]),
        row("+447911123456", "Elsewhere", &[]),
    ];
    let taken = contacts
        .find_by_phone(&t, &rows[1].phone)
        .await
        .expect("read")
        .expect("seeded");
    let (proposed, _) = propose(&rows);
    let claimed = contacts.preclaim(&t, proposed).await.expect("preclaim");
    let done = contacts
        .import_preclaimed(&t, &rows, Utc::now(), true, claimed.slice(0, rows.len()))
        .await
        .expect("import");
    assert_eq!(done, counts(3, 1, 0, 0));
    let renamed = contacts
        .get(&t, &taken.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(renamed.first_name.as_deref(), Some("Taken"));
}

async fn an_api_write_during_an_import_is_merged_not_overwritten(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let rows = vec![
        row("+14155550001", "Ann", &["imported"]),
        row("+14155550002", "Bob", &[]),
    ];
    let (proposed, ids) = propose(&rows);
    let claimed = contacts.preclaim(&t, proposed).await.expect("preclaim");
    // While the import runs, the API writes Ann (completing the import's claim).
    let draft: smscrm_domain::ContactDraft = serde_json::from_value(serde_json::json!({
        "phone": "+14155550001",
        "last_name": "Api",
        "consent": {"status": "explicit", "source": "signup form"}
    }))
    .expect("draft");
    let region = "US".parse().expect("region");
    let (ann, created) = contacts
        .upsert_by_phone(&t, draft.validate(region).expect("valid"), Utc::now())
        .await
        .expect("upsert");
    assert!(created);
    assert_eq!(ann.id, ids[0], "the API completes the import's claim");

    let done = contacts
        .import_preclaimed(&t, &rows, Utc::now(), true, claimed.slice(0, 2))
        .await
        .expect("import");
    assert_eq!(done, counts(1, 1, 0, 0));
    let ann = contacts.get(&t, &ids[0]).await.expect("read").expect("ann");
    assert_eq!(ann.first_name.as_deref(), Some("Ann"));
    assert_eq!(
        ann.last_name.as_deref(),
        Some("Api"),
        "the API's fields stay"
    );
    assert_eq!(ann.consent.status, ConsentStatus::Explicit);
    assert_eq!(count_contacts(&contacts, &t).await, 2);
}

/// Moving a contact to a phone an import claimed but has not written (it stopped part-way)
/// is refused, and the refusal says so rather than naming a contact nobody can find.
async fn a_phone_an_unfinished_import_claimed_is_refused_for_what_it_is(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let seeded = [
        row("+14155550002", "Bob", &[]),
        row("+14155550003", "Cy", &[]),
    ];
    contacts
        .import_batch(&t, &seeded, Utc::now(), true)
        .await
        .expect("seed");
    let bob = contacts
        .find_by_phone(&t, &seeded[0].phone)
        .await
        .expect("read")
        .expect("bob");
    let (proposed, _) = propose(&[row("+14155550001", "Ann", &[])]);
    contacts.preclaim(&t, proposed).await.expect("preclaim");

    let move_bob_to = |phone: &str| {
        let changes = smscrm_domain::contact::ContactChanges {
            phone: Some(PhoneE164::from_e164(phone).expect("e164")),
            ..Default::default()
        };
        contacts.update(&t, &bob.id, changes, Utc::now())
    };
    match move_bob_to("+14155550001").await {
        Err(smscrm_store::RepoError::Conflict(message)) => {
            assert!(message.contains("reserved by an import"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match move_bob_to("+14155550003").await {
        Err(smscrm_store::RepoError::Conflict(message)) => {
            assert!(message.contains("another contact"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let bob = contacts.get(&t, &bob.id).await.expect("read").expect("bob");
    assert_eq!(bob.phone, seeded[0].phone, "refused changes change nothing");
}

fn with_consent(phone: &str, status: ConsentStatus, source: &str) -> ContactMerge {
    ContactMerge {
        consent: Some(ConsentInput {
            status,
            source: Some(source.into()),
        }),
        ..row(phone, "Ann", &[])
    }
}

/// Commits one row.
async fn import_one(contacts: &Contacts, t: &TenantId, merge: ContactMerge) -> ImportCounts {
    contacts
        .import_batch(t, &[merge], Utc::now(), true)
        .await
        .expect("import")
}

/// An import's consent meets what a contact already has: a grant keeps the first evidence,
/// an opt-out stands against any later file (and the report counts the rows it refused), and
/// a plain "no" withdraws consent.
async fn consent_in_a_file_never_lifts_an_opt_out(table: Arc<dyn Table>) {
    use ConsentStatus::{Explicit, Revoked, Unknown};
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let ann = "+14155550001";
    let consent_of = || async {
        let phone = PhoneE164::from_e164(ann).expect("e164");
        let contact = contacts.find_by_phone(&t, &phone).await.expect("read");
        let consent = contact.expect("ann").consent;
        (consent.status, consent.source)
    };
    let import = |merge: ContactMerge| import_one(&contacts, &t, merge);

    import(with_consent(ann, Explicit, "import column SMS")).await;
    let declared = import(with_consent(ann, Explicit, "web form 2024")).await;
    assert_eq!(declared, counts(0, 0, 1, 0));
    assert_eq!(
        consent_of().await,
        (Explicit, Some("import column SMS".into()))
    );

    let opted_out = import(with_consent(ann, Revoked, "import column SMS")).await;
    assert_eq!(opted_out, counts(0, 1, 0, 0));
    for grant in ["web form 2024", "import column SMS"] {
        let refused = import(with_consent(ann, Explicit, grant)).await;
        assert_eq!(
            (refused.unchanged, refused.opt_outs_kept),
            (1, 1),
            "{grant}: {refused:?}"
        );
        assert_eq!(consent_of().await.0, Revoked);
    }

    let bob = "+14155550002";
    import(with_consent(bob, Explicit, "signup form")).await;
    let no = import(with_consent(bob, Unknown, "import column SMS")).await;
    assert_eq!(no, counts(0, 1, 0, 0));
    let phone = PhoneE164::from_e164(bob).expect("e164");
    let bob = contacts
        .find_by_phone(&t, &phone)
        .await
        .expect("read")
        .expect("bob");
    assert_eq!(bob.consent.status, Unknown, "a plain no withdraws consent");
}

/// A number listed as opted out (a STOP, or a refused row of an import saying so) whose
/// contact still says it consents: an import of the number, granting consent even, leaves the
/// contact opted out, as it would a contact it creates. (An import planned before a refused
/// row's listing was made, then written after the contact was revoked, would otherwise put
/// the row's consent back.)
async fn a_listed_opt_out_reaches_an_existing_contact(table: Arc<dyn Table>) {
    use ConsentStatus::{Explicit, Revoked};
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let ann = "+14155550001";
    let import = |merge: ContactMerge| import_one(&contacts, &t, merge);
    import(with_consent(ann, Explicit, "signup form")).await;
    let phone = PhoneE164::from_e164(ann).expect("e164");
    list_opted_out(&table, &t, &phone, Some("import column SMS Opt Out, row 7")).await;
    let again = import(with_consent(ann, Explicit, "signup form")).await;
    assert_eq!(
        (again.updated, again.suppressed, again.opt_outs_kept),
        (1, 1, 1),
        "{again:?}"
    );
    let contact = contacts.find_by_phone(&t, &phone).await.expect("read");
    let consent = contact.expect("ann").consent;
    assert_eq!(
        (consent.status, consent.source.as_deref()),
        (Revoked, Some("import column SMS Opt Out, row 7"))
    );
    let once_more = import(with_consent(ann, Explicit, "signup form")).await;
    assert_eq!(once_more.unchanged, 1, "{once_more:?}");
}

/// Deleting a contact who opted out keeps the opt-out: a later import of the number (saying
/// "yes", even) creates a contact that is suppressed and has opted out. Deleting anyone else
/// lists nothing.
async fn a_deleted_contact_who_opted_out_stays_suppressed(table: Arc<dyn Table>) {
    use ConsentStatus::{Explicit, Revoked};
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let (bob, ann) = ("+14155550103", "+14155550104");
    let rows = [
        with_consent(bob, Revoked, "import column SMS"),
        with_consent(ann, Explicit, "import column SMS"),
    ];
    contacts
        .import_batch(&t, &rows, Utc::now(), true)
        .await
        .expect("import");
    for phone in [bob, ann] {
        let phone = PhoneE164::from_e164(phone).expect("e164");
        let contact = contacts.find_by_phone(&t, &phone).await.expect("read");
        contacts
            .delete_keeping_opt_out(&t, &contact.expect("contact").id, Utc::now())
            .await
            .expect("delete");
    }
    let again = [
        with_consent(bob, Explicit, "web form"),
        with_consent(ann, Explicit, "web form"),
    ];
    let counts_again = contacts
        .import_batch(&t, &again, Utc::now(), true)
        .await
        .expect("import again");
    // Bob's "yes" is an opt-out kept, and his new contact says he opted out.
    let mut kept = counts(2, 0, 0, 1);
    kept.opt_outs_kept = 1;
    assert_eq!(counts_again, kept);
    for (phone, status) in [(bob, Revoked), (ann, Explicit)] {
        let phone = PhoneE164::from_e164(phone).expect("e164");
        let contact = contacts.find_by_phone(&t, &phone).await.expect("read");
        assert_eq!(contact.expect("contact").consent.status, status, "{phone}");
    }
    let dnc = DoNotContact::new(table.clone());
    let listed = dnc
        .get(&t, &PhoneE164::from_e164(bob).expect("e164"))
        .await
        .expect("dnc")
        .expect("bob stays on the list");
    assert_eq!(listed.reason, smscrm_store::suppression::OPTED_OUT_REASON);
    assert!(
        dnc.get(&t, &PhoneE164::from_e164(ann).expect("e164"))
            .await
            .expect("dnc")
            .is_none()
    );
}

/// Two imports holding the same phones (two team members' lists, or one file through the drop
/// folder and the API), each planned before the other writes, as two workers at once do:
/// one contact per phone. (Claims without the pass ahead used to be written blindly, so each
/// import made its own contact, and the one whose claim was overwritten was orphaned.)
async fn two_imports_of_the_same_phones_at_once_make_one_contact_each(table: Arc<dyn Table>) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let rows: Vec<_> = (0..50)
        .map(|i| row(&format!("+1415555{:04}", 2000 + i), &format!("P{i}"), &[]))
        .collect();
    let first = contacts
        .plan_import(&t, &rows, Utc::now(), &[], true)
        .await
        .expect("plan first");
    let second = contacts
        .plan_import(&t, &rows, Utc::now(), &[], true)
        .await
        .expect("plan second");
    contacts.write_import(&t, first).await.expect("write first");
    contacts
        .write_import(&t, second)
        .await
        .expect("write second");
    assert_eq!(count_contacts(&contacts, &t).await, 50);
    for row in &rows {
        let found = contacts.find_by_phone(&t, &row.phone).await.expect("read");
        assert!(found.is_some(), "{} has its contact", row.phone);
    }
}

/// The API creates a contact while an import of the same phone is between planning and
/// writing: the API completes the import's claim, so both write one contact.
async fn an_api_create_between_an_imports_plan_and_its_write_makes_one_contact(
    table: Arc<dyn Table>,
) {
    let t = tenant(&table).await;
    let contacts = Contacts::new(table.clone());
    let rows = [row("+14155550001", "Ann", &[])];
    let plan = contacts
        .plan_import(&t, &rows, Utc::now(), &[], true)
        .await
        .expect("plan");
    let draft: smscrm_domain::ContactDraft =
        serde_json::from_value(serde_json::json!({"phone": "+14155550001", "last_name": "Api"}))
            .expect("draft");
    let region = "US".parse().expect("region");
    let (api, _) = contacts
        .upsert_by_phone(&t, draft.validate(region).expect("valid"), Utc::now())
        .await
        .expect("upsert");
    contacts.write_import(&t, plan).await.expect("write");
    assert_eq!(count_contacts(&contacts, &t).await, 1);
    let found = contacts
        .find_by_phone(&t, &rows[0].phone)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.id, api.id);
}
