//! Hostile input and faults, through the real binary: servers that trickle,
//! stall or announce absurd bodies, absurd flag values, secrets in URLs,
//! odd files, closed pipes, and topics that do not exist.

use crate::support;

use std::io::Write;
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::args::Args;
use support::hostile::*;
use support::{assert_says, eds, outcome, stub_at, temp_dir, words, NOW};

mod files;
mod http;
mod secrets;
mod values;
