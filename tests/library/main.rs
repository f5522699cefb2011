//! The library's parts, called directly (no binary run): the API reader's
//! thread, the chart of a year, the backfill pacer, Java-written
//! `client.properties` files.

#[path = "../support/mod.rs"]
mod support;

mod api_reader;
mod backfill_pacer;
mod chart_year;
mod java_properties;
