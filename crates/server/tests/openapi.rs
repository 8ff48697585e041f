//! The committed OpenAPI document (`docs/openapi.json`, from which the web client's types are
//! generated) must be exactly what the code describes.

use std::path::PathBuf;

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = madang_server::openapi()
        .to_pretty_json()
        .expect("the document serialises")
        + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("MADANG_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `make openapi` (MADANG_UPDATE_OPENAPI=1 cargo test -p madang-server --test openapi) and commit it"
    );
}
