//! S3 event notifications carry object keys URL-encoded (spaces as `+`, everything else
//! outside the safe set as `%XX`); moto does the same. Every consumer must decode them before
//! using a key, or files with spaces or accents are "not found".

use percent_encoding::percent_decode_str;

#[derive(Debug, thiserror::Error)]
#[error("S3 event key `{0}` is not valid URL-encoded UTF-8")]
pub struct BadEventKey(pub String);

/// The object key as stored in S3, from the `s3.object.key` of an event record.
pub fn decode_event_key(raw: &str) -> Result<String, BadEventKey> {
    let plus_as_space = raw.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| BadEventKey(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_key_of_the_sample_event() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/s3-put-import.json"
        );
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let raw = event["Records"][0]["s3"]["object"]["key"].as_str().unwrap();
        assert_eq!(
            decode_event_key(raw).unwrap(),
            "tenants/tn_01m8085nv3srfxwrhqvdn2qwkx/imports/March list (final) été.csv"
        );
    }

    #[test]
    fn a_literal_plus_arrives_as_2b() {
        assert_eq!(decode_event_key("a%2Bb+c").unwrap(), "a+b c");
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_mangled_key() {
        assert!(decode_event_key("bad%FF").is_err());
    }
}
