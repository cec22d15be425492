//! AgentStatus: when the agent started and when its configuration was last reloaded
//! (SIGHUP), for `/status`. The reload itself is done by the binary, which tells this
//! actor once it has applied the new configuration.

use actix::prelude::*;
use chrono::{DateTime, Local};

pub struct AgentStatus {
    started: DateTime<Local>,
    reloaded: DateTime<Local>,
}

impl AgentStatus {
    pub fn new() -> AgentStatus {
        let now = Local::now();
        AgentStatus {
            started: now,
            reloaded: now,
        }
    }
}

impl Default for AgentStatus {
    fn default() -> Self {
        AgentStatus::new()
    }
}

impl Actor for AgentStatus {
    type Context = Context<Self>;
}

#[derive(Debug, Clone, MessageResponse)]
pub struct AgentTimes {
    pub started: DateTime<Local>,
    pub reloaded: DateTime<Local>,
}

#[derive(Message)]
#[rtype(result = "AgentTimes")]
pub struct GetAgentTimes;

impl Handler<GetAgentTimes> for AgentStatus {
    type Result = AgentTimes;

    fn handle(&mut self, _: GetAgentTimes, _: &mut Self::Context) -> AgentTimes {
        AgentTimes {
            started: self.started,
            reloaded: self.reloaded,
        }
    }
}

/// The configuration was reloaded now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reloaded;

impl Handler<Reloaded> for AgentStatus {
    type Result = ();

    fn handle(&mut self, _: Reloaded, _: &mut Self::Context) {
        self.reloaded = Local::now();
    }
}
