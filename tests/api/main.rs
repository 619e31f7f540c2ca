//! One integration-test binary: each test starts the real server on a free port with a fresh
//! database (SQLite by default, PostgreSQL when DARKHAN_TEST_DATABASE_URL is set) and talks
//! to it over HTTP and WebSocket like a client would.

mod accounts;
mod analytics;
mod bank_transfers;
mod catalog_browse;
mod catalog_products;
mod catalog_shops;
mod demo;
mod distribution;
mod feeds;
mod fuzz;
mod hardening;
mod helpers;
mod layers;
mod media;
mod notifications;
mod ops;
mod orders;
mod orders_live;
mod pages;
mod payments_card;
mod payments_payouts;
mod payments_refunds;
mod promotions;
mod reviews;
mod schema;
mod statistics;
mod transport;
mod ws;
