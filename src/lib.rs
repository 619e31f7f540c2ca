//! Darkhan: the GraphQL backend of a marketplace for Mongolian artisans.

#![recursion_limit = "256"]

pub mod accounts;
pub mod app;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod db;
pub mod demo;
pub mod distribution;
pub mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod i18n;
pub mod kit;
pub mod marketing;
pub mod media;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod promotions;
pub mod rollups;
pub mod state;
pub mod statistics;
pub mod storage;
pub mod stripe;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
pub mod workpool;
