//! Every end-to-end and conformance test, in one test binary. Linking the AWS SDK into one
//! binary instead of two dozen keeps a clean build several gigabytes smaller and minutes
//! faster; nextest still runs each test in a process of its own.

#[macro_use]
mod support;

mod access;
mod api_campaigns;
mod api_contacts;
mod api_imports;
mod api_templates;
mod api_tenant;
mod audit;
mod auth;
mod auth_https;
mod budget;
mod campaign_dispatch;
mod conformance_aws;
mod conformance_embedded;
mod contact_import;
mod contention;
mod delivery_order;
mod drop_folder;
mod drop_folder_s3;
mod iam;
mod import_jobs;
mod privacy;
mod sender_faults;
mod sending;
mod webhooks;
mod webhooks_live;
