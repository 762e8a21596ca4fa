//! The stand-ins the senders' tests send to, all on loopback: an HTTP receiver answering
//! as told (a gateway, Slack, PagerDuty, a webhook subscriber, or one misbehaving), and a
//! real SMTP server (aiosmtpd) writing what it accepts to a Maildir.
#![allow(dead_code)]

pub mod receiver;
pub mod smtp;
