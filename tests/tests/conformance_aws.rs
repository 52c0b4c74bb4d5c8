//! The port conformance suite on the AWS adapters (DynamoDB, SQS, S3, Secrets Manager) against
//! the moto server that `scripts/test` starts; without `AWS_ENDPOINT_URL` every test fails
//! with a message saying so.

smscrm_tests::conformance_suite!(smscrm_tests::backends::aws);
