//! temboard-agent: a PostgreSQL host agent serving the temBoard agent 7.x REST API
//! over HTTPS. This file parses the command line and runs one command; `serve` (the
//! default) loads the configuration, starts logging, the actors and the server. Only
//! a bad configuration at start-up stops the process, with one line naming the file,
//! section and key.

mod cli;
mod config;
mod http;
mod logging;
mod quickstart;
mod reload;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "temboard-agent", version, about)]
struct Cli {
    /// The configuration file (INI, as temboard-agent 7.x).
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = "/etc/temboard-agent/temboard-agent.conf",
        env = "TEMBOARD_CONFIGFILE"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent (the default).
    Serve,
    /// Add a user to the users file (the password is prompted for, or read from stdin).
    Adduser {
        name: String,
        /// admin (everything) or read (may look, not change).
        #[arg(long, default_value = "admin", value_parser = ["admin", "read"])]
        role: String,
    },
    /// Print a users-file line for NAME with a new password hash.
    Password {
        name: String,
        /// admin (everything) or read (may look, not change).
        #[arg(long, default_value = "admin", value_parser = ["admin", "read"])]
        role: String,
    },
    /// Set up a throwaway PostgreSQL cluster, a certificate, a user and a
    /// configuration in DIR, then run the agent against them.
    Quickstart {
        #[arg(long, default_value = "quickstart")]
        dir: PathBuf,
        /// The agent's HTTPS port.
        #[arg(long, default_value_t = 2345)]
        port: u16,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(&cli.config),
        Command::Adduser { name, role } => cli::adduser(&cli.config, &name, &role),
        Command::Password { name, role } => cli::password(&name, &role),
        Command::Quickstart { dir, port } => quickstart::run(&dir, port),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("temboard-agent: {message}");
            ExitCode::FAILURE
        }
    }
}
