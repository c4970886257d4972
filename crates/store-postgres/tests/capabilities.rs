//! The capability stores (`store::sql_stores`) on a real PostgreSQL (`QINGSHUI_TEST_DATABASE_URL`;
//! skipped without it): the shared behaviour test, each part in a fresh schema.

use store::Store;
use store::sql_stores::conformance;
use store_postgres::{PgConfig, PgStore};

fn fresh() -> Option<PgStore> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    // The blocking client must not run on the test's runtime thread.
    let (_, url) = std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, "cap_"))
        .join()
        .expect("create the schema")
        .expect("schema");
    let mut config = PgConfig::new(url);
    config.notify = false;
    Some(PgStore::open(config).expect("open"))
}

macro_rules! on_postgres {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            let Some(store) = fresh() else {
                eprintln!("QINGSHUI_TEST_DATABASE_URL is not set: skipped");
                return;
            };
            conformance::$name(&store).await;
            store.close().await;
        }
    };
}

on_postgres!(alerts);
on_postgres!(scenes);
on_postgres!(accounts);
on_postgres!(review);
